import { Injectable } from '@nestjs/common';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { EnvironmentSchema } from './environment.schema';

export interface HostPort {
  host: string;
  port: number;
}

function parseHostPorts(list: string | undefined): HostPort[] {
  if (list === undefined) return [];
  return list.split(',').map((entry) => {
    const i = entry.lastIndexOf(':');
    return { host: entry.slice(0, i), port: Number(entry.slice(i + 1)) };
  });
}

/** Typed, validated configuration. The only reader of the environment in the application. */
@Injectable()
export class ConfigService {
  readonly instanceId: string;

  constructor(readonly env: EnvironmentSchema) {
    this.instanceId =
      env.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  get isProduction(): boolean {
    return this.env.NODE_ENV === 'production';
  }

  get dataDir(): string {
    return resolve(this.env.DATA_DIR);
  }

  get sqliteFile(): string {
    return resolve(this.dataDir, 'switchyard.db');
  }

  get databaseEngine(): 'postgres' | 'sqlite' {
    return this.env.DATABASE_URL === undefined ? 'sqlite' : 'postgres';
  }

  get redisMode(): 'standalone' | 'sentinel' | 'cluster' | 'none' {
    if (this.env.REDIS_URL !== undefined) return 'standalone';
    if (this.env.REDIS_SENTINELS !== undefined) return 'sentinel';
    if (this.env.REDIS_CLUSTER_NODES !== undefined) return 'cluster';
    return 'none';
  }

  get redisSentinels(): HostPort[] {
    return parseHostPorts(this.env.REDIS_SENTINELS);
  }

  get redisClusterNodes(): HostPort[] {
    return parseHostPorts(this.env.REDIS_CLUSTER_NODES);
  }

  get publicUrl(): string {
    return (this.env.PUBLIC_URL ?? `http://localhost:${this.env.PORT}`).replace(/\/$/, '');
  }
}
