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
import {
  DEFAULT_LIVE_SNAPSHOT_OPTIONS,
  LiveSnapshot,
  type LiveSnapshotOptions,
} from 'src/infra/coordination/live-snapshot';
import { toModelRoute } from './model-route.mapper';
import type { ModelAlias, ModelRoute, RouteMatch } from './model-route.types';
import { ModelRoutesRepository, type ModelRouteRecord } from './model-routes.repository';
import { RouteTable } from './route-table';
import { routingKeys } from './routing-coordination.keys';

// What other modules need with the router, from the file they import it from.
export type { ModelAlias, ModelRoute, RouteMatch } from './model-route.types';

export type ModelRouterOptions = LiveSnapshotOptions;

export const MODEL_ROUTER_OPTIONS = Symbol('MODEL_ROUTER_OPTIONS');

/**
 * Which platform serves a model name, and under which name: the routes of `model_routes`, held
 * in memory as one compiled snapshot (RouteTable). `route()` is synchronous, reads no SQL and
 * makes no round trip.
 *
 * The snapshot is a LiveSnapshot: reloaded at once by the instance that changed a route
 * (ModelRoutesService awaits `reload()` before answering), by every other instance when the
 * change is announced on `ch:model-routes`, and periodically; a reload that fails keeps the
 * previous snapshot.
 */
@Injectable()
export class ModelRouter implements OnModuleInit, OnModuleDestroy {
  private readonly snapshot: LiveSnapshot<RouteTable, ModelRouteRecord[]>;

  constructor(
    repository: ModelRoutesRepository,
    @InjectCoordinator() coordinator: Coordinator,
    @Optional() @Inject(MODEL_ROUTER_OPTIONS) options?: Partial<ModelRouterOptions>,
  ) {
    this.snapshot = new LiveSnapshot(
      {
        name: 'model routes',
        channels: [routingKeys.channels.modelRoutes],
        read: () => repository.listAll(),
        build: buildTable,
      },
      RouteTable.EMPTY,
      coordinator,
      { ...DEFAULT_LIVE_SNAPSHOT_OPTIONS, ...options },
    );
  }

  async onModuleInit(): Promise<void> {
    await this.snapshot.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.snapshot.stop();
  }

  // --- hot path: synchronous, no I/O ---

  /**
   * The platform and upstream model for a requested model name, or null when no enabled route
   * matches. An exact name wins over every pattern; patterns are tried by position, then id;
   * case is ignored. The result is shared between callers: it is frozen.
   */
  route(model: string): RouteMatch | null {
    return this.snapshot.current.route(model);
  }

  /** Enabled exact-name routes, by name: model names a client can send as they are. */
  aliases(): readonly ModelAlias[] {
    return this.snapshot.current.aliases;
  }

  /** Every route (disabled ones too), in the order they are evaluated. */
  list(): readonly ModelRoute[] {
    return this.snapshot.current.routes;
  }

  /** Increments whenever a reload changed the routes; lets readers cache derived values. */
  get version(): number {
    return this.snapshot.version;
  }

  /** Notified after each reload that changed the routes. Returns an unsubscribe function. */
  onReload(listener: (version: number) => void): () => void {
    return this.snapshot.onReload(listener);
  }

  /** Resolves once the first load has completed (starting it when nobody has yet). */
  ensureLoaded(): Promise<void> {
    return this.snapshot.ensureLoaded();
  }

  /** Reloads from SQL now (see LiveSnapshot.reload). */
  reload(): Promise<void> {
    return this.snapshot.reload();
  }
}

function buildTable(records: ModelRouteRecord[]): RouteTable {
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
  return new RouteTable(routes);
}
