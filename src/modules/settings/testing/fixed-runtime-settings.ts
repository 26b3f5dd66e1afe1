import type { EnvironmentSchema } from 'src/config/environment.schema';
import { RuntimeSettings } from '../runtime-settings';
import { settingDefaults, type SettingKey, type SettingValues } from '../settings.catalogue';

/** Runtime settings held in memory for unit tests: the environment's defaults, changeable. */
export class FixedRuntimeSettings extends RuntimeSettings {
  private values: SettingValues;

  constructor(env: EnvironmentSchema, overrides: Partial<SettingValues> = {}) {
    super();
    this.values = { ...settingDefaults(env), ...overrides };
  }

  get<K extends SettingKey>(key: K): SettingValues[K] {
    return this.values[key];
  }

  /** Changes a value, as a stored override applied by every instance would. */
  set<K extends SettingKey>(key: K, value: SettingValues[K]): void {
    this.values = { ...this.values, [key]: value };
  }
}
