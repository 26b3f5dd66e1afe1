import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { coordinatorContract } from './coordinator.contract';

describe(LocalCoordinator.name, () => {
  coordinatorContract('Coordinator contract', async (instanceCount) => {
    // One store and one injected clock: instances agree on time and tests never wait.
    const store = new LocalCoordinatorStore();
    let clock = Date.UTC(2025, 0, 31, 12);
    const now = (): number => clock;
    const instances = Array.from(
      { length: instanceCount },
      (_, i) => new LocalCoordinator({ instanceId: `instance-${i}`, store, now }),
    );
    return {
      instances,
      now,
      elapse: async (ms) => {
        clock += ms;
      },
      teardown: async () => {
        await Promise.all(instances.map((instance) => instance.close()));
      },
    };
  });

  describe('subscribe', () => {
    it('should keep delivering to other handlers when one handler throws', async () => {
      const errors: unknown[] = [];
      const coordinator = new LocalCoordinator({
        instanceId: 'instance-0',
        onError: (error) => errors.push(error),
      });
      const received: string[] = [];
      await coordinator.subscribe('ch', () => {
        throw new Error('boom');
      });
      await coordinator.subscribe('ch', (message) => received.push(message));

      await coordinator.publish('ch', 'hello');
      await new Promise((resolve) => setImmediate(resolve));

      expect(received).toEqual(['hello']);
      expect(errors).toEqual([expect.objectContaining({ message: 'boom' })]);
      await coordinator.close();
    });
  });
});
