/**
 * Coordination channels of the routing module (see docs/architecture.md, Redis key catalogue).
 * Candidates to move into coordination.keys.ts.
 */
export const routingKeys = {
  channels: {
    /** A route id (or `*`) whose row changed: every instance reloads its route table. */
    modelRoutes: 'ch:model-routes',
    /** A routing rule id (or `*`) whose row changed: every instance reloads its rule table. */
    routingRules: 'ch:routing-rules',
  },
} as const;
