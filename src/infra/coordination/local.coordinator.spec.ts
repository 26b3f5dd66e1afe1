import { coordinationKeys } from './coordination.keys';
import { LocalCoordinator, LocalCoordinatorStore } from './local.coordinator';

const HOUR_MS = 3_600_000;

function setup(maxStickyEntries: number): {
  store: LocalCoordinatorStore;
  coordinator: LocalCoordinator;
  elapse(ms: number): void;
} {
  const store = new LocalCoordinatorStore({ maxStickyEntries });
  let clock = Date.UTC(2026, 0, 1);
  const coordinator = new LocalCoordinator({ instanceId: 'i', store, now: () => clock });
  return { store, coordinator, elapse: (ms) => (clock += ms) };
}

describe(LocalCoordinatorStore.name, () => {
  describe('sticky sessions', () => {
    it('should keep at most maxStickyEntries sessions when clients invent conversation ids', async () => {
      const { store, coordinator } = setup(100);
      for (let i = 0; i < 10_000; i++) {
        await coordinator.setValue(coordinationKeys.sticky('key', `s${i}`), 'acct', HOUR_MS);
      }
      expect(store.stickies.size).toBe(100);
      // The newest survive, the oldest went.
      expect(await coordinator.getValue(coordinationKeys.sticky('key', 's9999'))).toBe('acct');
      expect(await coordinator.getValue(coordinationKeys.sticky('key', 's0'))).toBeNull();
    });

    it('should evict the least recently used session, not one that was just renewed', async () => {
      const { coordinator } = setup(3);
      const key = (s: string): string => coordinationKeys.sticky('key', s);
      for (const s of ['a', 'b', 'c']) await coordinator.setValue(key(s), s, HOUR_MS);
      // 'a' is in use: renewing it makes 'b' the least recently used.
      expect(await coordinator.getValueAndTouch(key('a'), HOUR_MS)).toBe('a');
      await coordinator.setValue(key('d'), 'd', HOUR_MS);
      expect(await coordinator.getValues([key('a'), key('b'), key('c'), key('d')])).toEqual([
        'a',
        null,
        'c',
        'd',
      ]);
    });

    it('should never evict a cooldown or other value to make room for sessions', async () => {
      const { store, coordinator } = setup(10);
      const health = coordinationKeys.accountHealth('acct-1');
      await coordinator.setValue(health, 'cooling', HOUR_MS);
      for (let i = 0; i < 1000; i++) {
        await coordinator.setValue(coordinationKeys.sticky('key', `s${i}`), 'acct', HOUR_MS);
      }
      expect(await coordinator.getValue(health)).toBe('cooling');
      expect(store.stickies.size).toBe(10);
    });

    it('should sweep expired sessions nobody reads again', async () => {
      const { store, coordinator, elapse } = setup(100_000);
      for (let i = 0; i < 2000; i++) {
        await coordinator.setValue(coordinationKeys.sticky('key', `old${i}`), 'acct', 1000);
      }
      elapse(2000);
      // Writes of anything drive the amortised sweep.
      for (let i = 0; i < 2100; i++) {
        await coordinator.setValue(`other:${i % 10}`, 'v', HOUR_MS);
      }
      expect(store.stickies.size).toBe(0);
    });
  });
});
