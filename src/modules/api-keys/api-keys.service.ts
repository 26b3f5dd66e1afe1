import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DomainException } from 'src/common/errors/domain.exception';
import { appLogger } from 'src/common/logging/app-logger';
import { PLATFORMS, type Platform } from 'src/common/platform';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { ApiKeyHasher } from 'src/infra/crypto/api-key-hasher';
import { RuntimeSettings } from 'src/modules/settings/runtime-settings';
import { AdmissionService, type BudgetStatus } from './admission.service';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { generateSecret, secretHint } from './api-key-secret';
import {
  parseBindings,
  parseLimits,
  parseModelPolicy,
  parsePermissions,
  toPolicy,
  toResponse,
  type ApiKeyRecord,
  type ApiKeyRow,
} from './api-key.mapper';
import type { ApiKeyBinding, ApiKeyLimits, ApiKeyPolicy, KeyScope } from './api-key.types';
import { ApiKeyAdminCode, ApiKeyException } from './api-keys.exception';
import { ApiKeysRepository, type ApiKeyPatch } from './api-keys.repository';
import type {
  ApiKeyBatchAction,
  ApiKeyBatchActionResponseDto,
} from './dto/api-key-batch-action.dto';
import type { ApiKeyBudgetsResponseDto } from './dto/api-key-budgets.dto';
import type { ApiKeyBindingsDto, ApiKeyFieldsDto, ApiKeyLimitsDto } from './dto/api-key-fields.dto';
import type {
  ApiKeyListResponseDto,
  ApiKeyResponseDto,
  CreatedApiKeyResponseDto,
} from './dto/api-key-response.dto';
import type {
  BatchCreateApiKeysRequestDto,
  CreateApiKeyRequestDto,
  UpdateApiKeyRequestDto,
} from './dto/create-api-key.dto';
import type { ListApiKeysQueryDto } from './dto/list-api-keys.dto';

/** Optimistic-concurrency retries of one update before giving up. */
const UPDATE_ATTEMPTS = 5;
const WINDOW_LIMIT_FIELDS = ['windowRequests', 'windowTokens', 'windowCostMicros'] as const;

function invalidPolicy(message: string): ApiKeyException {
  return new ApiKeyException(ApiKeyAdminCode.INVALID_KEY_POLICY, message);
}

function parseExpiresAt(value: string | null | undefined): number | null | undefined {
  if (value === undefined || value === null) return value;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalidPolicy(`expiresAt is not a valid date: ${value}`);
  return ms;
}

/** Limits after a patch: absent fields keep their value, null removes them. */
function mergeLimits(current: ApiKeyLimits, patch: ApiKeyLimitsDto): ApiKeyLimits {
  const next: ApiKeyLimits = { ...current };
  for (const [field, value] of Object.entries(patch) as [keyof ApiKeyLimits, unknown][]) {
    if (value === null) delete next[field];
    else if (typeof value === 'number') next[field] = value;
  }
  return next;
}

function mergeBindings(
  current: Partial<Record<Platform, ApiKeyBinding>>,
  patch: ApiKeyBindingsDto,
): Partial<Record<Platform, ApiKeyBinding>> {
  const next = { ...current };
  for (const platform of PLATFORMS) {
    const binding = patch[platform];
    if (binding === undefined) continue;
    if (binding === null) {
      delete next[platform];
      continue;
    }
    const { accountId, groupId } = binding;
    if ((accountId === undefined) === (groupId === undefined)) {
      throw invalidPolicy(`bindings.${platform} needs exactly one of accountId and groupId`);
    }
    next[platform] = accountId !== undefined ? { accountId } : { groupId: groupId as string };
  }
  return next;
}

/** Rules across fields, checked after every create and update. */
function assertConsistent(record: ApiKeyRecord): void {
  if (record.expires_at !== null && record.expires_after_days !== null) {
    throw invalidPolicy('set either expiresAt or expiresAfterDays, not both');
  }
  const limits = parseLimits(record);
  if (limits.windowMinutes === undefined) {
    const orphan = WINDOW_LIMIT_FIELDS.find((field) => limits[field] !== undefined);
    if (orphan !== undefined) throw invalidPolicy(`limits.${orphan} needs limits.windowMinutes`);
  }
}

/** A key acted on by the user who owns it: only their keys are found, never deleted ones. */
export interface KeyOwner {
  userId: string;
}

/** How a user's own key is created or changed: fitted to the user's caps. */
export interface OwnedKeyChange extends KeyOwner {
  /**
   * The key's scope (platforms, models, limits) as it would be stored, fitted to what the owner
   * may have: returns the scope to store or throws the refusal. Runs on create and on every
   * update, inside the optimistic-concurrency loop.
   */
  fit(scope: KeyScope): KeyScope;
}

export interface OwnedKeyCreate extends OwnedKeyChange {
  /** Written to the free-text `owner` column, so admin lists show whose key it is. */
  username: string;
  /** Keys (not deleted) the user may hold at once. */
  maxKeys: number;
  /** The refusal when the user already holds `held` keys. */
  tooMany(held: number): Error;
}

function scopeOf(record: ApiKeyRecord): KeyScope {
  return {
    permissions: parsePermissions(record),
    modelPolicy: parseModelPolicy(record),
    limits: parseLimits(record),
  };
}

/** The columns of a fitted scope. */
function scopeColumns(scope: KeyScope): ApiKeyPatch {
  const wanted = new Set(scope.permissions);
  return {
    permissions: JSON.stringify(PLATFORMS.filter((p) => wanted.has(p))),
    model_policy:
      scope.modelPolicy === null
        ? null
        : JSON.stringify({
            mode: scope.modelPolicy.mode,
            patterns: [...new Set(scope.modelPolicy.patterns)],
          }),
    limits: JSON.stringify(scope.limits),
  };
}

/**
 * The admin side of API keys: create (once-shown secret, stored as a digest), list, update,
 * enable/disable, rotate, soft delete and restore. Every change is published on the key
 * invalidation channel so every instance drops its cached copy at once.
 */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly hasher: ApiKeyHasher,
    private readonly config: ConfigService,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly admission: AdmissionService,
    private readonly settings: RuntimeSettings,
  ) {}

  /**
   * Creates a key. With `owner`, a user's own key: it belongs to them, its scope is fitted to
   * their caps, and it is refused once they hold `maxKeys` keys.
   */
  async create(
    input: CreateApiKeyRequestDto,
    owner?: OwnedKeyCreate,
  ): Promise<CreatedApiKeyResponseDto> {
    const now = Date.now();
    const { record, secret } = this.newRecord(input.name, input, now, owner);
    // Not published: no instance can hold a new key yet, and the message arriving back here
    // after the key's first lookup would only drop a fresh cache entry for nothing.
    if (owner === undefined) {
      await this.repository.insertMany([record]);
    } else {
      const held = await this.repository.insertOwned(record, owner.userId, owner.maxKeys);
      if (held !== null) throw owner.tooMany(held);
    }
    return { ...toResponse(record, now), secret };
  }

  /** N keys in one transaction: all are created or none. */
  async createBatch(input: BatchCreateApiKeysRequestDto): Promise<CreatedApiKeyResponseDto[]> {
    const now = Date.now();
    const pattern = input.namePattern.includes('{n}')
      ? input.namePattern
      : `${input.namePattern}-{n}`;
    const width = String(input.count).length;
    const created = Array.from({ length: input.count }, (_, i) =>
      this.newRecord(pattern.replaceAll('{n}', String(i + 1).padStart(width, '0')), input, now),
    );
    await this.repository.insertMany(created.map((c) => c.record));
    return created.map(({ record, secret }) => ({ ...toResponse(record, now), secret }));
  }

  async list(query: ListApiKeysQueryDto): Promise<ApiKeyListResponseDto> {
    const now = Date.now();
    const { rows, total } = await this.repository.list({
      page: query.page,
      pageSize: query.pageSize,
      search: query.search,
      tag: query.tag,
      owner: query.owner,
      userId: query.userId,
      enabled: query.enabled,
      deleted: query.deleted,
      sortBy: query.sortBy,
      sortOrder: query.sortOrder,
    });
    return {
      items: rows.map((row) => toResponse(row, now)),
      total,
      page: query.page,
      pageSize: query.pageSize,
    };
  }

  /**
   * Deleted keys too (with `status: 'deleted'`), so they can be looked at and restored; for an
   * owner, only their keys that are not deleted.
   */
  async get(id: string, owner?: KeyOwner): Promise<ApiKeyResponseDto> {
    return toResponse(await this.find(id, owner), Date.now());
  }

  /** Ids of every key of the user, deleted ones included. */
  idsOfUser(userId: string): Promise<string[]> {
    return this.repository.idsOfUser(userId);
  }

  /**
   * Drops these keys from every instance's cache, so their next use reads them (and their
   * user's state) from SQL: after a user is disabled, enabled or deleted.
   */
  async invalidate(ids: readonly string[]): Promise<void> {
    // Together: ioredis pipelines them, so a user with many keys is not one round trip each.
    await Promise.all(ids.map((id) => this.publish(id)));
  }

  /** The hot-path view of a key by id (e.g. for an admin usage page's budget status). */
  async getPolicy(id: string): Promise<ApiKeyPolicy> {
    return toPolicy(await this.find(id));
  }

  /**
   * Partial update. `limits` and `bindings` merge field by field (null removes one); every
   * other field replaces its value (null clears the nullable ones).
   */
  async update(
    id: string,
    patch: UpdateApiKeyRequestDto,
    owner?: OwnedKeyChange,
  ): Promise<ApiKeyResponseDto> {
    return this.mutate(
      id,
      (record) => {
        const changes = this.applyFields(record, patch);
        if (owner === undefined) return changes;
        return { ...changes, ...scopeColumns(owner.fit(scopeOf({ ...record, ...changes }))) };
      },
      { owner },
    );
  }

  async setEnabled(id: string, enabled: boolean, owner?: KeyOwner): Promise<ApiKeyResponseDto> {
    return this.mutate(id, () => ({ enabled: enabled ? 1 : 0 }), { owner });
  }

  /** A new secret; the old one stops working at once, on every instance. */
  async rotate(id: string, owner?: KeyOwner): Promise<CreatedApiKeyResponseDto> {
    const prefix = this.config.env.API_KEY_PREFIX;
    const secret = generateSecret(prefix);
    const key = await this.mutate(
      id,
      () => ({
        key_digest: this.hasher.digest(secret),
        key_hint: secretHint(prefix, secret),
      }),
      { owner },
    );
    return { ...key, secret };
  }

  /**
   * Soft delete: the key stops working and leaves the default list; restore brings it back
   * (an admin's route: to its owner a deleted key is gone).
   */
  async remove(id: string, owner?: KeyOwner): Promise<ApiKeyResponseDto> {
    return this.mutate(
      id,
      (record, now) => (record.deleted_at === null ? { deleted_at: now } : null),
      { allowDeleted: owner === undefined, owner },
    );
  }

  async restore(id: string): Promise<ApiKeyResponseDto> {
    return this.mutate(id, (record) => (record.deleted_at === null ? null : { deleted_at: null }), {
      allowDeleted: true,
    });
  }

  /**
   * One action on many keys, each changed on its own (as its single-key route would): a key that
   * fails (unknown, deleted) is listed with its error code and the others are still done.
   * One at a time, in the order given, so SQLite's single writer is not queued up at once.
   */
  async batchAction(
    action: ApiKeyBatchAction,
    ids: readonly string[],
  ): Promise<ApiKeyBatchActionResponseDto> {
    const result: ApiKeyBatchActionResponseDto = { items: [], failed: [] };
    for (const id of new Set(ids)) {
      try {
        result.items.push(await this.applyAction(action, id));
      } catch (error) {
        if (!(error instanceof DomainException)) throw error;
        result.failed.push({ id, code: error.code, message: error.message });
      }
    }
    return result;
  }

  /**
   * What is used of each key's limits and budgets now (the admin list's usage bars): one
   * coordinator read per key, all at once. Unknown ids are left out.
   */
  async budgets(ids: readonly string[]): Promise<ApiKeyBudgetsResponseDto> {
    const rows = new Map((await this.repository.findByIds(ids)).map((row) => [row.id, row]));
    const wanted = [...new Set(ids)].flatMap((id) => {
      const row = rows.get(id);
      return row === undefined ? [] : [toPolicy(row)];
    });
    const statuses = await Promise.all(
      wanted.map((policy) => this.admission.getBudgetStatus(policy)),
    );
    return { items: wanted.map((policy, i) => ({ id: policy.id, budgets: statuses[i] })) };
  }

  private applyAction(action: ApiKeyBatchAction, id: string): Promise<ApiKeyResponseDto> {
    switch (action) {
      case 'enable':
        return this.setEnabled(id, true);
      case 'disable':
        return this.setEnabled(id, false);
      case 'delete':
        return this.remove(id);
      case 'restore':
        return this.restore(id);
    }
  }

  /** Remaining window limits and budgets of a key (see AdmissionService.getBudgetStatus). */
  getBudgetStatus(policy: ApiKeyPolicy): Promise<BudgetStatus> {
    return this.admission.getBudgetStatus(policy);
  }

  /** The key; to an owner, another user's key or a deleted one is not found (nothing to learn). */
  private async find(id: string, owner?: KeyOwner): Promise<ApiKeyRow> {
    const record = await this.repository.findById(id);
    if (record === undefined) throw ApiKeyException.notFound(id);
    if (owner !== undefined && (record.user_id !== owner.userId || record.deleted_at !== null)) {
      throw ApiKeyException.notFound(id);
    }
    return record;
  }

  private newRecord(
    name: string,
    input: ApiKeyFieldsDto,
    now: number,
    owner?: OwnedKeyCreate,
  ): { record: ApiKeyRecord; secret: string } {
    const prefix = this.config.env.API_KEY_PREFIX;
    const secret = generateSecret(prefix);
    const blank: ApiKeyRecord = {
      id: randomUUID(),
      name,
      description: null,
      tags: '[]',
      owner: null,
      key_digest: this.hasher.digest(secret),
      key_hint: secretHint(prefix, secret),
      enabled: 1,
      expires_at: null,
      expires_after_days: null,
      first_used_at: null,
      last_used_at: null,
      permissions: JSON.stringify(PLATFORMS),
      model_policy: null,
      allowed_clients: null,
      bindings: '{}',
      // The runtime default; the request's own limits merge over it (null removes one).
      limits: JSON.stringify(this.settings.get('apiKeyDefaultLimits')),
      price_multiplier: 1,
      reservation_policy: 'strict',
      user_id: owner?.userId ?? null,
      deleted_at: null,
      created_at: now,
      updated_at: now,
    };
    let record = { ...blank, ...this.applyFields(blank, input) };
    if (owner !== undefined) {
      // An owned key never starts from "every platform": absent means its caps' platforms.
      const fields = input.permissions === undefined ? { ...record, permissions: '[]' } : record;
      record = { ...record, owner: owner.username, ...scopeColumns(owner.fit(scopeOf(fields))) };
    }
    assertConsistent(record);
    return { record, secret };
  }

  /** Column changes for the given fields; absent fields are left out. */
  private applyFields(
    record: ApiKeyRecord,
    fields: ApiKeyFieldsDto & { name?: string },
  ): ApiKeyPatch {
    const patch: ApiKeyPatch = {};
    if (fields.name !== undefined) patch.name = fields.name;
    if (fields.description !== undefined) patch.description = fields.description;
    if (fields.tags !== undefined) patch.tags = JSON.stringify([...new Set(fields.tags)]);
    if (fields.owner !== undefined) patch.owner = fields.owner;
    if (fields.enabled !== undefined) patch.enabled = fields.enabled ? 1 : 0;
    const expiresAt = parseExpiresAt(fields.expiresAt);
    if (expiresAt !== undefined) patch.expires_at = expiresAt;
    if (fields.expiresAfterDays !== undefined) patch.expires_after_days = fields.expiresAfterDays;
    if (fields.permissions !== undefined) {
      const wanted = new Set(fields.permissions);
      patch.permissions = JSON.stringify(PLATFORMS.filter((p) => wanted.has(p)));
    }
    if (fields.modelPolicy !== undefined) {
      patch.model_policy =
        fields.modelPolicy === null
          ? null
          : JSON.stringify({
              mode: fields.modelPolicy.mode,
              patterns: [...new Set(fields.modelPolicy.patterns)],
            });
    }
    if (fields.allowedClients !== undefined) {
      patch.allowed_clients =
        fields.allowedClients === null ? null : JSON.stringify([...new Set(fields.allowedClients)]);
    }
    if (fields.bindings !== undefined) {
      patch.bindings = JSON.stringify(mergeBindings(parseBindings(record), fields.bindings));
    }
    if (fields.limits !== undefined) {
      patch.limits = JSON.stringify(mergeLimits(parseLimits(record), fields.limits));
    }
    if (fields.priceMultiplier !== undefined) patch.price_multiplier = fields.priceMultiplier;
    if (fields.reservationPolicy !== undefined) {
      patch.reservation_policy = fields.reservationPolicy;
    }
    return patch;
  }

  /**
   * Read, change, write back only if nobody wrote in between (else retry), then invalidate.
   * `change` returns null for "nothing to do" (idempotent delete / restore).
   */
  private async mutate(
    id: string,
    change: (record: ApiKeyRecord, now: number) => ApiKeyPatch | null,
    options: { allowDeleted?: boolean; owner?: KeyOwner } = {},
  ): Promise<ApiKeyResponseDto> {
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt += 1) {
      const record = await this.find(id, options.owner);
      if (record.deleted_at !== null && options.allowDeleted !== true) {
        throw new ApiKeyException(
          ApiKeyAdminCode.KEY_DELETED,
          `API key ${id} is deleted; restore it first`,
        );
      }
      const now = Date.now();
      const patch = change(record, now);
      if (patch === null) return toResponse(record, now);
      // Strictly increasing, so two writes within one millisecond still conflict.
      const next: ApiKeyPatch = { ...patch, updated_at: Math.max(now, record.updated_at + 1) };
      assertConsistent({ ...record, ...next });
      const updated = await this.repository.updateIfUnchanged(id, record.updated_at, next);
      if (updated !== undefined) {
        await this.publish(id);
        // The owner's state is not part of the row written back: carry over what was read.
        return toResponse({ ...updated, user_disabled: record.user_disabled }, now);
      }
    }
    throw new Error(`API key ${id} kept changing during the update; try again`);
  }

  /**
   * Drops the key from this instance's cache synchronously, then tells the other instances.
   * A failed publish does not undo the committed change: the others catch up within the cache
   * TTL, and the failure is logged.
   */
  private async publish(id: string): Promise<void> {
    this.authenticator.invalidate(id);
    try {
      await this.coordinator.publish(coordinationKeys.channels.keyInvalidation, id);
    } catch (error) {
      appLogger.warn({ err: error, keyId: id }, 'publishing an API key invalidation failed');
    }
  }
}
