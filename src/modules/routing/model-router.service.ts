import {
  Inject,
  Injectable,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { toModelRoute } from './model-route.mapper';
import type { ModelAlias, ModelRoute, RouteMatch } from './model-route.types';
import { ModelRoutesRepository } from './model-routes.repository';
import { RouteTable } from './route-table';
import { routingKeys } from './routing-coordination.keys';

// What other modules need with the router, from the file they import it from.
export type { ModelAlias, ModelRoute, RouteMatch } from './model-route.types';

export interface ModelRouterOptions {
  /**
   * Reload this often even without a message: heals messages lost while Redis reconnected, and
   * picks up changes made by a process that shares the database but not the coordinator.
   */
  safetyReloadMs: number;
  /** After a failed subscribe at start, try again this often (the safety reload covers the gap). */
  subscribeRetryMs: number;
}

export const MODEL_ROUTER_OPTIONS = Symbol('MODEL_ROUTER_OPTIONS');

const DEFAULT_OPTIONS: ModelRouterOptions = { safetyReloadMs: 60_000, subscribeRetryMs: 5_000 };

/**
 * Which platform serves a model name, and under which name: the routes of `model_routes`, held
 * in memory as one compiled snapshot (RouteTable). `route()` is synchronous, reads no SQL and
 * makes no round trip.
 *
 * The snapshot is reloaded at once by the instance that changed a route (ModelRoutesService
 * awaits `reload()` before answering), and by every other instance when the change is
 * announced on `ch:model-routes`; a periodic reload bounds staleness should a message be lost.
 * A reload that fails keeps the previous snapshot.
 */
@Injectable()
export class ModelRouter implements OnModuleInit, OnModuleDestroy {
  private readonly options: ModelRouterOptions;
  private table: RouteTable = RouteTable.EMPTY;
  /** The rows the table was built from: a reload that reads the same rows changes nothing. */
  private fingerprint: string | null = null;
  private currentVersion = 0;
  private initialLoad: Promise<void> | undefined;
  private loading: Promise<void> | null = null;
  private followUp: Promise<void> | null = null;
  private safetyTimer: NodeJS.Timeout | null = null;
  private subscribeTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly listeners = new Set<(version: number) => void>();
  private destroyed = false;

  constructor(
    private readonly repository: ModelRoutesRepository,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    @Optional() @Inject(MODEL_ROUTER_OPTIONS) options?: Partial<ModelRouterOptions>,
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  async onModuleInit(): Promise<void> {
    // Subscribed before the first load, so no change can fall between the two.
    await this.subscribe(false);
    await this.ensureLoaded();
    this.safetyTimer = setInterval(() => this.reloadQuietly(), this.options.safetyReloadMs);
    this.safetyTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    if (this.safetyTimer !== null) clearInterval(this.safetyTimer);
    if (this.subscribeTimer !== null) clearTimeout(this.subscribeTimer);
    this.safetyTimer = this.subscribeTimer = null;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    await unsubscribe?.().catch(() => undefined);
    await this.loading?.catch(() => undefined);
  }

  // --- hot path: synchronous, no I/O ---

  /**
   * The platform and upstream model for a requested model name, or null when no enabled route
   * matches. An exact name wins over every pattern; patterns are tried by position, then id;
   * case is ignored. The result is shared between callers: it is frozen.
   */
  route(model: string): RouteMatch | null {
    return this.table.route(model);
  }

  /** Enabled exact-name routes, by name: model names a client can send as they are. */
  aliases(): readonly ModelAlias[] {
    return this.table.aliases;
  }

  /** Every route (disabled ones too), in the order they are evaluated. */
  list(): readonly ModelRoute[] {
    return this.table.routes;
  }

  /** Increments whenever a reload changed the routes; lets readers cache derived values. */
  get version(): number {
    return this.currentVersion;
  }

  /** Notified after each reload that changed the routes. Returns an unsubscribe function. */
  onReload(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the first load has completed (starting it when nobody has yet). */
  ensureLoaded(): Promise<void> {
    this.initialLoad ??= this.reload().catch((error: unknown) => {
      this.initialLoad = undefined;
      throw error;
    });
    return this.initialLoad;
  }

  /**
   * Reloads from SQL now. Calls made while a reload runs share one follow-up reload, so the
   * caller always sees data read after its call, and a burst of messages costs two reads.
   */
  reload(): Promise<void> {
    if (this.loading === null) {
      this.loading = this.load().finally(() => {
        this.loading = null;
      });
      return this.loading;
    }
    this.followUp ??= this.loading
      .catch(() => undefined)
      .then(() => {
        this.followUp = null;
        return this.reload();
      });
    return this.followUp;
  }

  private reloadQuietly(): void {
    if (this.destroyed) return;
    this.reload().catch((error: unknown) => {
      appLogger.warn(
        { err: error },
        'model routes could not be reloaded; keeping the current ones',
      );
    });
  }

  private async load(): Promise<void> {
    const records = await this.repository.listAll();
    const fingerprint = JSON.stringify(records);
    if (fingerprint === this.fingerprint) return;
    const routes: ModelRoute[] = [];
    for (const record of records) {
      const route = toModelRoute(record);
      if (route !== null) routes.push(route);
      else {
        appLogger.error(
          { routeId: record.id, pattern: record.pattern, platform: record.platform },
          'model route ignored: its platform is not one this version serves',
        );
      }
    }
    this.table = new RouteTable(routes);
    this.fingerprint = fingerprint;
    this.currentVersion += 1;
    for (const listener of this.listeners) {
      try {
        listener(this.currentVersion);
      } catch (error) {
        appLogger.error({ err: error }, 'model route reload listener failed');
      }
    }
  }

  /**
   * Subscribes to route changes. When the coordinator cannot subscribe (Redis down at start),
   * the instance still starts and keeps trying; until then the safety reload bounds staleness.
   */
  private async subscribe(retry: boolean): Promise<void> {
    try {
      const unsubscribe = await this.coordinator.subscribe(routingKeys.channels.modelRoutes, () =>
        this.reloadQuietly(),
      );
      if (this.destroyed) {
        await unsubscribe().catch(() => undefined);
        return;
      }
      this.unsubscribe = unsubscribe;
      // Changes made while unsubscribed were never announced here.
      if (retry) this.reloadQuietly();
    } catch (error) {
      appLogger.warn({ err: error }, 'subscribing to model route changes failed; retrying');
      if (this.destroyed) return;
      this.subscribeTimer = setTimeout(() => {
        this.subscribeTimer = null;
        void this.subscribe(true);
      }, this.options.subscribeRetryMs);
      this.subscribeTimer.unref();
    }
  }
}
