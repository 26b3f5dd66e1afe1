import type { Platform } from 'src/common/platform';

/** A stored model route, as the router and the admin service use it. */
export interface ModelRoute {
  id: string;
  /** An exact name (no `*`) or a pattern; lower-case. */
  pattern: string;
  platform: Platform;
  /** The name sent on instead of the requested one, or null to keep the requested name. */
  targetModel: string | null;
  position: number;
  enabled: boolean;
  note: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

/** Where a requested model goes. */
export interface RouteMatch {
  platform: Platform;
  /** The model to ask the platform for: the route's target, or the requested name unchanged. */
  model: string;
  routeId: string;
}

/** An enabled exact-name route: a model name a client can use as it is. */
export interface ModelAlias {
  /** The name a client sends (lower-case; matched ignoring case). */
  name: string;
  platform: Platform;
  /** The model the platform is asked for. */
  model: string;
}
