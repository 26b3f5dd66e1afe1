import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** A throwaway redis-server on its own port, so a test may stop and restart it. */
export interface ThrowawayRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function ping(port: number): Promise<boolean> {
  const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
  return r.stdout.trim() === 'PONG';
}

export async function throwawayRedis(): Promise<ThrowawayRedis> {
  const port = await freePort();
  const start = async (): Promise<void> => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'yes',
      ],
      { stdio: 'ignore' },
    );
    await new Promise((resolve) => child.once('exit', resolve));
    for (let i = 0; i < 50 && !(await ping(port)); i++)
      await new Promise((r) => setTimeout(r, 100));
  };
  const stop = async (): Promise<void> => {
    spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' });
    for (let i = 0; i < 50 && (await ping(port)); i++) await new Promise((r) => setTimeout(r, 100));
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, stop };
}
