/** Coordination channels of the settings module (see docs/architecture.md, Redis key catalogue). */
export const settingsKeys = {
  channels: {
    /** The keys of settings that changed (comma separated): every instance reloads its values. */
    settings: 'ch:settings',
  },
} as const;
