import { PLATFORMS, type Platform } from 'src/common/platform';
import type { ModelRouteResponseDto } from './dto/model-route.dto';
import type { ModelRoute } from './model-route.types';
import type { ModelRouteRecord } from './model-routes.repository';

export function isPlatform(value: string): value is Platform {
  return (PLATFORMS as readonly string[]).includes(value);
}

function fields(record: ModelRouteRecord, platform: Platform): ModelRoute {
  return {
    id: record.id,
    pattern: record.pattern,
    platform,
    targetModel: record.target_model,
    position: record.position,
    enabled: record.enabled === 1,
    note: record.note,
    createdAt: record.created_at,
    updatedAt: record.updated_at,
  };
}

/** A stored row as a route; null when its platform is none this version knows. */
export function toModelRoute(record: ModelRouteRecord): ModelRoute | null {
  return isPlatform(record.platform) ? fields(record, record.platform) : null;
}

export function toModelRouteResponse(route: ModelRoute): ModelRouteResponseDto {
  return {
    id: route.id,
    pattern: route.pattern,
    platform: route.platform,
    targetModel: route.targetModel,
    position: route.position,
    enabled: route.enabled,
    note: route.note,
    createdAt: new Date(route.createdAt).toISOString(),
    updatedAt: new Date(route.updatedAt).toISOString(),
  };
}

/**
 * A stored row as the admin API shows it. A platform this version does not know (written by a
 * newer version, or by hand) is shown as stored, so the admin can see the route and fix it.
 */
export function recordToResponse(record: ModelRouteRecord): ModelRouteResponseDto {
  return toModelRouteResponse(fields(record, record.platform as Platform));
}
