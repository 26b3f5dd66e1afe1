import {
  Inject,
  Injectable,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import {
  DEFAULT_LIVE_SNAPSHOT_OPTIONS,
  LiveSnapshot,
  type LiveSnapshotOptions,
} from 'src/infra/coordination/live-snapshot';
import type {
  SettingChangeDto,
  SettingListResponseDto,
  SettingResponseDto,
  SettingSource,
  SettingsUpdateResponseDto,
} from './dto/settings.dto';
import { RuntimeSettings } from './runtime-settings';
import {
  isSettingKey,
  SETTING_KEYS,
  settingDefaults,
  settingDefinition,
  type SettingKey,
  type SettingValues,
} from './settings.catalogue';
import { settingsKeys } from './settings-coordination.keys';
import { SettingsException } from './settings.exception';
import { SettingsRepository, type SettingRecord } from './settings.repository';

export type SettingsOptions = LiveSnapshotOptions;

export const SETTINGS_OPTIONS = Symbol('SETTINGS_OPTIONS');

/** The values in effect, and which of them come from a stored override. */
interface SettingsSnapshot {
  readonly values: SettingValues;
  /** key → when its valid stored override was written. */
  readonly storedAt: ReadonlyMap<SettingKey, number>;
}

/**
 * The runtime settings (settings.catalogue.ts): stored overrides in the `settings` table over the
 * environment's defaults, held in memory on every instance as one snapshot. `get()` is a property
 * read: no SQL, no round trip, so the hot path may call it per request.
 *
 * Kept fresh like the routing tables (a LiveSnapshot): the instance that changed a setting
 * reloads before answering; the others reload when the change is announced on `ch:settings`; a
 * periodic reload bounds staleness should a message be lost; a failed reload keeps the previous
 * values. A stored value that no longer passes its check (a hand-edited row, a bound tightened
 * by an upgrade) is ignored, with an error log, for the default.
 */
@Injectable()
export class SettingsService extends RuntimeSettings implements OnModuleInit, OnModuleDestroy {
  private readonly defaults: SettingValues;
  private readonly snapshot: LiveSnapshot<SettingsSnapshot, SettingRecord[]>;

  constructor(
    private readonly repository: SettingsRepository,
    config: ConfigService,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    @Optional() @Inject(SETTINGS_OPTIONS) options?: Partial<SettingsOptions>,
  ) {
    super();
    // Throws on an environment default a setting cannot take: startup fails and says which.
    this.defaults = settingDefaults(config.env);
    this.snapshot = new LiveSnapshot(
      {
        name: 'runtime settings',
        channels: [settingsKeys.channels.settings],
        read: () => repository.list(SETTING_KEYS),
        build: (records) => this.build(records),
      },
      { values: this.defaults, storedAt: new Map() },
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

  get<K extends SettingKey>(key: K): SettingValues[K] {
    return this.snapshot.current.values[key];
  }

  /** Increments whenever a reload changed the stored overrides. */
  get version(): number {
    return this.snapshot.version;
  }

  /** Notified after each reload that changed the overrides. Returns an unsubscribe function. */
  onReload(listener: (version: number) => void): () => void {
    return this.snapshot.onReload(listener);
  }

  /** Reloads from SQL now (see LiveSnapshot.reload). */
  reload(): Promise<void> {
    return this.snapshot.reload();
  }

  // --- admin ---

  /** Every setting as this instance applies it now. */
  list(): SettingListResponseDto {
    const current = this.snapshot.current;
    return { items: SETTING_KEYS.map((key) => this.describe(key, current)) };
  }

  show(key: string): SettingResponseDto {
    if (!isSettingKey(key)) throw SettingsException.notFound(key);
    return this.describe(key, this.snapshot.current);
  }

  /**
   * Stores several values at once (null: back to the default). Every value is checked first;
   * one refused and nothing is stored, the error naming each bad key. Applied by this instance
   * before the call answers and announced to every other.
   */
  async update(values: Record<string, unknown>): Promise<SettingsUpdateResponseDto> {
    const errors: Record<string, string> = {};
    const upserts: SettingRecord[] = [];
    const removals: SettingKey[] = [];
    const keys: SettingKey[] = [];
    const now = Date.now();
    for (const [key, raw] of Object.entries(values)) {
      if (!isSettingKey(key)) {
        errors[key] = 'is not a runtime setting';
        continue;
      }
      keys.push(key);
      if (raw === null) {
        removals.push(key);
        continue;
      }
      const checked = settingDefinition(key).check(raw);
      if (!checked.ok) errors[key] = checked.error;
      else upserts.push({ key, value: JSON.stringify(checked.value), updated_at: now });
    }
    if (Object.keys(errors).length > 0) throw SettingsException.invalid(errors);
    if (keys.length === 0) {
      throw SettingsException.invalid({ values: 'must name at least one setting' });
    }
    const before = this.snapshot.current;
    await this.repository.apply(upserts, removals);
    await this.changed(keys);
    const after = this.snapshot.current;
    return {
      changes: keys.map((key) => change(key, before, after)),
      items: SETTING_KEYS.map((key) => this.describe(key, after)),
    };
  }

  /** Removes a stored override: the setting returns to its environment default. */
  async reset(key: string): Promise<SettingsUpdateResponseDto> {
    if (!isSettingKey(key)) throw SettingsException.notFound(key);
    return this.update({ [key]: null });
  }

  private describe(key: SettingKey, snapshot: SettingsSnapshot): SettingResponseDto {
    const definition = settingDefinition(key);
    const storedAt = snapshot.storedAt.get(key);
    return {
      key,
      type: definition.type,
      value: snapshot.values[key],
      default: this.defaults[key],
      source: storedAt === undefined ? 'env' : 'database',
      envVariable: definition.env,
      description: definition.description,
      bounds: definition.bounds,
      unit: definition.unit,
      updatedAt: storedAt === undefined ? null : new Date(storedAt).toISOString(),
    };
  }

  private build(records: SettingRecord[]): SettingsSnapshot {
    const values: Record<string, unknown> = { ...this.defaults };
    const storedAt = new Map<SettingKey, number>();
    for (const record of records) {
      if (!isSettingKey(record.key)) continue;
      const checked = parseStored(record);
      if (!checked.ok) {
        appLogger.error(
          { setting: record.key, problem: checked.error },
          'stored runtime setting ignored: the default applies',
        );
        continue;
      }
      values[record.key] = checked.value;
      storedAt.set(record.key, Number(record.updated_at));
    }
    return { values: values as SettingValues, storedAt };
  }

  private async changed(keys: SettingKey[]): Promise<void> {
    // Read-your-writes: this instance applies the change before the admin call answers.
    await this.snapshot.reload();
    try {
      await this.coordinator.publish(settingsKeys.channels.settings, keys.join(','));
    } catch (error) {
      // Stored already; other instances pick it up at their next safety reload.
      appLogger.warn({ err: error, keys }, 'runtime settings change could not be announced');
    }
  }
}

function parseStored(
  record: SettingRecord,
): { ok: true; value: unknown } | { ok: false; error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.value);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  return settingDefinition(record.key as SettingKey).check(parsed);
}

function sourceOf(key: SettingKey, snapshot: SettingsSnapshot): SettingSource {
  return snapshot.storedAt.has(key) ? 'database' : 'env';
}

function change(
  key: SettingKey,
  before: SettingsSnapshot,
  after: SettingsSnapshot,
): SettingChangeDto {
  const previous = before.values[key];
  const value = after.values[key];
  const previousSource = sourceOf(key, before);
  const source = sourceOf(key, after);
  return {
    key,
    previous,
    previousSource,
    value,
    source,
    changed: previousSource !== source || !isDeepStrictEqual(previous, value),
  };
}
