/** The client-facing platforms a key may be allowed, and accounts belong to. */
export const PLATFORMS = ['claude', 'gemini', 'openai', 'droid'] as const;
export type Platform = (typeof PLATFORMS)[number];
