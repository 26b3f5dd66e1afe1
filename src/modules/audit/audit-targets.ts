import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { appLogger } from 'src/common/logging/app-logger';
import {
  AUDIT_TARGET_LOADER_METADATA,
  type AuditTargetLoader,
  type AuditTargetLoaders,
} from './audit-target-loader.port';

/**
 * The target loaders of every feature, found at start among the application's providers marked
 * with `@AuditTargetLoaderProvider()` (provided under AUDIT_TARGET_LOADERS).
 */
@Injectable()
export class AuditTargets implements AuditTargetLoaders, OnModuleInit {
  private readonly loaders = new Map<string, AuditTargetLoader>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const type = wrapper.metatype;
      if (
        typeof type !== 'function' ||
        wrapper.instance === undefined ||
        wrapper.instance === null
      ) {
        continue;
      }
      if (this.reflector.get<boolean | undefined>(AUDIT_TARGET_LOADER_METADATA, type) !== true) {
        continue;
      }
      const loader = wrapper.instance as AuditTargetLoader;
      if (this.loaders.has(loader.targetType)) {
        appLogger.warn({ targetType: loader.targetType }, 'two audit loaders for one target type');
        continue;
      }
      this.loaders.set(loader.targetType, loader);
    }
  }

  get(targetType: string): AuditTargetLoader | undefined {
    return this.loaders.get(targetType);
  }

  /** The target's public view, or null (none, or it could not be read: logged). */
  async load(targetType: string | null, id: string | null): Promise<object | null> {
    if (targetType === null || id === null) return null;
    const loader = this.loaders.get(targetType);
    if (loader === undefined) return null;
    try {
      return await loader.load(id);
    } catch (error) {
      appLogger.warn({ err: error, targetType }, 'audit snapshot could not be read');
      return null;
    }
  }
}
