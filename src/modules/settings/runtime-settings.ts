import type { SettingKey, SettingValues } from './settings.catalogue';

/**
 * What consumers read runtime settings through: the current value of a setting, from memory
 * (no SQL, no coordinator round trip). SettingsService is the live implementation (the stored
 * override, else the environment's default, kept fresh on every instance);
 * testing/fixed-runtime-settings.ts holds plain values for unit tests.
 *
 * Read a value where it is used, not once in a constructor, so a change applies to the next
 * request without a restart.
 */
export abstract class RuntimeSettings {
  abstract get<K extends SettingKey>(key: K): SettingValues[K];
}
