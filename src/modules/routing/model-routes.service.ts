import { Injectable } from '@nestjs/common';
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import { appLogger } from 'src/common/logging/app-logger';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { compareBy, containsText, pageOf } from 'src/common/http/list-query.dto';
import { WildcardPattern } from 'src/common/text/wildcard';
import type {
  ListModelRoutesQueryDto,
  ModelRouteInput,
  ModelRouteListResponseDto,
  ModelRouteSortField,
  ModelRouteResolutionDto,
  ModelRouteResponseDto,
  UpdateModelRouteDto,
} from './dto/model-route.dto';
import { recordToResponse, toModelRouteResponse } from './model-route.mapper';
import type { ModelRoute } from './model-route.types';
import { ModelRouter } from './model-router.service';
import {
  ModelRoutesRepository,
  type ModelRouteChanges,
  type ModelRouteRecord,
} from './model-routes.repository';
import { RoutingException, RoutingExceptionCode } from './routing.exception';
import { routingKeys } from './routing-coordination.keys';

const ROUTE_SORT_VALUE: Record<
  Exclude<ModelRouteSortField, 'evaluation'>,
  (route: ModelRoute) => string | number
> = {
  pattern: (route) => route.pattern,
  platform: (route) => route.platform,
  position: (route) => route.position,
  createdAt: (route) => route.createdAt,
  updatedAt: (route) => route.updatedAt,
};

/** A route created without a position goes this far after the last one, leaving room between. */
const POSITION_STEP = 10;

function notFound(id: string): RoutingException {
  return new RoutingException(RoutingExceptionCode.ROUTE_NOT_FOUND, `model route ${id} not found`, {
    id,
  });
}

function patternTaken(pattern: string, holderId: string): RoutingException {
  return new RoutingException(
    RoutingExceptionCode.ROUTE_PATTERN_TAKEN,
    `a model route for ${JSON.stringify(pattern)} exists already; edit that one`,
    { pattern, routeId: holderId },
  );
}

/**
 * Admin changes to the model routes. Every change is in SQL, applied by this instance's router
 * before the call answers, and announced so every other instance reloads too.
 */
@Injectable()
export class ModelRoutesService {
  constructor(
    private readonly repository: ModelRoutesRepository,
    private readonly router: ModelRouter,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {}

  /**
   * The routes as this instance applies them now, filtered, sorted and paged in memory: the
   * router holds them all already, and a table of routes stays small.
   */
  list(query: ListModelRoutesQueryDto): ModelRouteListResponseDto {
    const routes = this.router.list();
    const order = new Map(routes.map((route, index) => [route, index]));
    const evaluation = (a: ModelRoute, b: ModelRoute): number =>
      (order.get(a) ?? 0) - (order.get(b) ?? 0);
    const glob = query.model === undefined ? undefined : query.model.toLowerCase();
    const matching = routes.filter(
      (route) =>
        (query.platform === undefined || route.platform === query.platform) &&
        (query.enabled === undefined || route.enabled === query.enabled) &&
        (glob === undefined || new WildcardPattern(route.pattern).matchesPrepared(glob)) &&
        containsText(query.search, route.pattern, route.targetModel, route.note),
    );
    const sorted = matching.sort(
      query.sortBy === 'evaluation'
        ? (a, b) => (query.sortOrder === 'asc' ? evaluation(a, b) : evaluation(b, a))
        : compareBy(ROUTE_SORT_VALUE[query.sortBy], query.sortOrder, evaluation),
    );
    const page = pageOf(sorted, query);
    return { ...page, items: page.items.map(toModelRouteResponse) };
  }

  async get(id: string): Promise<ModelRouteResponseDto> {
    return recordToResponse(await this.require(id));
  }

  /** Where a request for this model would go now, on this instance. */
  resolve(model: string): ModelRouteResolutionDto {
    const match = this.router.route(model);
    return {
      model,
      route: match === null ? null : { ...match },
    };
  }

  async create(input: ModelRouteInput): Promise<ModelRouteResponseDto> {
    const pattern = input.pattern.toLowerCase();
    await this.checkPatternFree(pattern, null);
    const now = Date.now();
    const record: ModelRouteRecord = {
      id: timeOrderedId(now),
      pattern,
      platform: input.platform,
      target_model: input.targetModel ?? null,
      position: input.position ?? ((await this.repository.maxPosition()) ?? 0) + POSITION_STEP,
      enabled: input.enabled === false ? 0 : 1,
      note: input.note ?? null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.repository.insert(record);
    } catch (error) {
      // Lost a race with another create of the same pattern (the unique index said no).
      await this.checkPatternFree(pattern, null);
      throw error;
    }
    await this.changed(record.id);
    return recordToResponse(record);
  }

  async update(id: string, input: UpdateModelRouteDto): Promise<ModelRouteResponseDto> {
    const current = await this.require(id);
    const changes: ModelRouteChanges = { updated_at: Date.now() };
    if (input.pattern !== undefined) {
      const pattern = input.pattern.toLowerCase();
      if (pattern !== current.pattern) {
        await this.checkPatternFree(pattern, id);
        changes.pattern = pattern;
      }
    }
    if (input.platform !== undefined) changes.platform = input.platform;
    if (input.targetModel !== undefined) changes.target_model = input.targetModel;
    if (input.position !== undefined) changes.position = input.position;
    if (input.enabled !== undefined) changes.enabled = input.enabled ? 1 : 0;
    if (input.note !== undefined) changes.note = input.note;
    let updated: boolean;
    try {
      updated = await this.repository.update(id, changes);
    } catch (error) {
      if (changes.pattern !== undefined) await this.checkPatternFree(changes.pattern, id);
      throw error;
    }
    if (!updated) throw notFound(id);
    await this.changed(id);
    return recordToResponse({ ...current, ...changes });
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repository.delete(id))) throw notFound(id);
    await this.changed(id);
  }

  private async require(id: string): Promise<ModelRouteRecord> {
    const record = await this.repository.findById(id);
    if (record === undefined) throw notFound(id);
    return record;
  }

  private async checkPatternFree(pattern: string, exceptId: string | null): Promise<void> {
    const holder = await this.repository.findByPattern(pattern);
    if (holder !== undefined && holder.id !== exceptId) throw patternTaken(pattern, holder.id);
  }

  private async changed(id: string): Promise<void> {
    // Read-your-writes: this instance routes by the change before the admin call answers.
    await this.router.reload();
    try {
      await this.coordinator.publish(routingKeys.channels.modelRoutes, id);
    } catch (error) {
      // Stored already; other instances pick it up at their next safety reload.
      appLogger.warn({ err: error, routeId: id }, 'model route change could not be announced');
    }
  }
}
