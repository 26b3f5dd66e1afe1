import { IsObject } from 'class-validator';
import type { SettingBounds, SettingKey, SettingType } from '../settings.catalogue';

/** Where a setting's value comes from: its environment default, or a stored override. */
export type SettingSource = 'env' | 'database';

export class UpdateSettingsDto {
  /**
   * Setting key → new value (a number, a boolean or an object, by the setting's type); null
   * returns that setting to its environment default. Checked as a whole: one bad value and
   * nothing is stored.
   */
  @IsObject()
  values!: Record<string, unknown>;
}

export interface SettingResponseDto {
  key: SettingKey;
  type: SettingType;
  /** In effect on the instance that answered. */
  value: unknown;
  /** The environment's value (or the built-in default when `envVariable` is null). */
  default: unknown;
  source: SettingSource;
  envVariable: string | null;
  description: string;
  /** For integers: the accepted range. */
  bounds: SettingBounds | null;
  unit: string | null;
  /** When the stored override was written (ISO 8601); null without one. */
  updatedAt: string | null;
}

export interface SettingListResponseDto {
  items: SettingResponseDto[];
}

/** What one key of a change came to. */
export interface SettingChangeDto {
  key: SettingKey;
  previous: unknown;
  previousSource: SettingSource;
  value: unknown;
  source: SettingSource;
  /** False when the value and its source are what they were (an idempotent write). */
  changed: boolean;
}

export interface SettingsUpdateResponseDto {
  changes: SettingChangeDto[];
  /** Every setting after the change, as this instance now applies them. */
  items: SettingResponseDto[];
}
