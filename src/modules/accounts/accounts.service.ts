import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DEFAULT_PAGE_SIZE } from 'src/common/http/list-query.dto';
import { appLogger } from 'src/common/logging/app-logger';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import type {
  AccountCredentials,
  AccountStatus,
  AccountSubscription,
  AccountType,
  HealthEvent,
  HealthState,
  RoutableAccount,
} from './account.types';
import { AccountCodec } from './account-codec';
import { accountKeys } from './account-coordination.keys';
import { AccountGroupsRepository } from './account-groups.repository';
import { AccountHealthService } from './account-health.service';
import { describeCredentials, maskProxyUrl } from './account-masking';
import { AccountPool } from './account-pool.service';
import {
  describeCredentialFields,
  mergeCredentials,
  parseBaseUrl,
  parseCredentials,
  parseModels,
  parseProxyUrl,
  parseSubscription,
} from './account-validation';
import { AccountsException, AccountsExceptionCode } from './accounts.exception';
import {
  AccountsRepository,
  type AccountChanges,
  type AccountListQuery,
  type AccountRecord,
} from './accounts.repository';
import {
  PRIORITY_DEFAULT,
  WEIGHT_DEFAULT,
  type CreateAccountInput,
} from './dto/create-account.dto';
import type { TimedHealthState } from './dto/list-accounts.query.dto';
import type { UpdateAccountInput } from './dto/update-account.dto';
import type {
  AccountDetailResponseDto,
  AccountListResponseDto,
  AccountResponseDto,
  HealthEventDto,
  UsageWindowDto,
} from './dto/account.response.dto';
import type { UsageWindow } from './types/account-type.descriptor';
import { descriptorOf } from './types/account-types.registry';

const RECENT_EVENTS = 10;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** scheme://host:port of a URL (credentials in it left out); the URL itself when unparsable. */
function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return url;
  }
}

function notFound(id: string): AccountsException {
  return new AccountsException(AccountsExceptionCode.ACCOUNT_NOT_FOUND, `account ${id} not found`);
}

/** One sentence for "why is this account not routable". */
export function describeHealthState(state: Exclude<HealthState, { state: 'ok' }>): string {
  switch (state.state) {
    case 'cooling':
      return `cooling down until ${new Date(state.until).toISOString()}: ${state.reason}`;
    case 'rate_limited':
      return `rate limited until ${new Date(state.until).toISOString()}: ${state.reason}`;
    case 'auth_failed':
      return `authentication failed: ${state.reason}`;
    case 'blocked':
      return `blocked: ${state.reason}`;
  }
}

function toUsageWindowDto(window: UsageWindow): UsageWindowDto {
  return {
    name: window.name,
    usedPercent: window.usedPercent,
    resetsAt: iso(window.resetsAt),
    windowMinutes: window.windowMinutes,
  };
}

/**
 * The subscription facts the credentials carry (Codex's ID token) under those an admin gave:
 * given fields win one by one. null when there are neither.
 */
function withCredentialFacts(
  type: AccountType,
  credentials: AccountCredentials,
  given: AccountSubscription | null,
): AccountSubscription | null {
  const derived = descriptorOf(type).subscriptionFromCredentials?.(credentials) ?? null;
  if (derived === null) return given;
  return { ...derived, ...(given ?? {}) };
}

export function toHealthEventDto(event: HealthEvent): HealthEventDto {
  return {
    at: new Date(event.at).toISOString(),
    state: event.state,
    scope: event.scope,
    until: iso(event.until),
    reason: event.reason,
  };
}

/**
 * Accounts for the admin API and the CLI: validation per type, secrets sealed at rest and never
 * returned, and an invalidation after every change so every instance's pool reloads.
 */
@Injectable()
export class AccountsService {
  constructor(
    private readonly accountsRepository: AccountsRepository,
    private readonly groupsRepository: AccountGroupsRepository,
    private readonly codec: AccountCodec,
    private readonly pool: AccountPool,
    private readonly health: AccountHealthService,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {}

  async create(input: CreateAccountInput): Promise<AccountResponseDto> {
    const type = input.type;
    const platform = descriptorOf(type).platform;
    const name = input.name.trim();
    const credentials = parseCredentials(type, input.credentials);
    const baseUrl = this.checkBaseUrl(type, parseBaseUrl(input.baseUrl));
    const models = parseModels(input.models);
    const proxy = parseProxyUrl(input.proxy);
    this.checkUpstream(type, baseUrl, proxy);
    const subscription = withCredentialFacts(
      type,
      credentials,
      parseSubscription(type, input.subscription),
    );
    const groupIds = await this.checkGroups(platform, input.groupIds ?? []);
    await this.checkNameFree(name);

    const now = Date.now();
    const id = randomUUID();
    const record: AccountRecord = {
      id,
      name,
      platform,
      type,
      base_url: baseUrl,
      priority: input.priority ?? PRIORITY_DEFAULT,
      weight: input.weight ?? WEIGHT_DEFAULT,
      enabled: input.enabled === false ? 0 : 1,
      schedulable: input.schedulable === false ? 0 : 1,
      models: models === null ? null : JSON.stringify(models),
      credentials: this.codec.sealCredentials(id, credentials),
      proxy: this.codec.sealProxy(id, proxy),
      concurrency_limit: input.concurrencyLimit ?? null,
      subscription: subscription === null ? null : JSON.stringify(subscription),
      status: 'active',
      status_reason: null,
      last_used_at: null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.accountsRepository.insert(record, groupIds);
    } catch (error) {
      // Two creates with one name racing: the unique index refuses the second.
      if ((await this.accountsRepository.findByName(name)) !== undefined)
        throw this.nameTaken(name);
      throw error;
    }
    await this.invalidate(record.id);
    return this.toResponse(record, groupIds);
  }

  /**
   * One page of accounts; by default the first 50 by priority, then name. `health` keeps the
   * accounts in that time-bound state now (it lives in the coordinator, not in SQL).
   */
  async list(
    request: Partial<AccountListQuery> & { health?: TimedHealthState } = {},
  ): Promise<AccountListResponseDto> {
    const { health, ...filters } = request;
    const query: AccountListQuery = {
      ...filters,
      ...(health === undefined ? {} : { ids: this.health.accountIdsIn(health) }),
      page: request.page ?? 1,
      pageSize: request.pageSize ?? DEFAULT_PAGE_SIZE,
      sortBy: request.sortBy ?? 'priority',
      sortOrder: request.sortOrder ?? 'asc',
    };
    const { records, total } = await this.accountsRepository.list(query);
    const ids = records.map((r) => r.id);
    const groups = await this.accountsRepository.groupIdsByAccount(ids);
    const windows = await this.health.usageWindows(ids);
    return {
      items: records.map((record) =>
        this.toResponse(
          record,
          groups.get(record.id) ?? [],
          undefined,
          windows.get(record.id) ?? [],
        ),
      ),
      total,
      page: query.page,
      pageSize: query.pageSize,
    };
  }

  async get(id: string): Promise<AccountDetailResponseDto> {
    const record = await this.require(id);
    const groupIds = (await this.accountsRepository.groupIdsByAccount([id])).get(id) ?? [];
    const account = this.codec.toRoutable(record, groupIds);
    const events = await this.health.history(id, RECENT_EVENTS);
    const windows = (await this.health.usageWindows([id])).get(id) ?? [];
    return {
      ...this.toResponse(record, groupIds, account, windows),
      recentHealthEvents: events.map(toHealthEventDto),
    };
  }

  async update(id: string, input: UpdateAccountInput): Promise<AccountResponseDto> {
    const record = await this.require(id);
    const type = record.type as AccountType;
    const platform = descriptorOf(type).platform;
    const now = Date.now();
    const changes: AccountChanges = { updated_at: now };
    let credentialsReplaced = false;

    if (input.name !== undefined) {
      const name = input.name.trim();
      if (name !== record.name) {
        await this.checkNameFree(name);
        changes.name = name;
      }
    }
    const baseUrl =
      input.baseUrl === undefined
        ? record.base_url
        : this.checkBaseUrl(type, parseBaseUrl(input.baseUrl));
    const proxy = input.proxy === undefined ? undefined : parseProxyUrl(input.proxy);
    this.checkUpstream(type, input.baseUrl === undefined ? null : baseUrl, proxy ?? null);
    const movedBy = this.credentialsMoveBy(record, type, baseUrl, proxy);
    let newCredentials: AccountCredentials | null = null;
    if (movedBy !== null) {
      // The stored secrets would go to a new host: only someone who knows them may send them
      // there, so the request must carry them whole (nothing is kept from the stored ones).
      newCredentials = this.credentialsAgain(type, movedBy, input.credentials);
    } else if (input.credentials !== undefined) {
      newCredentials = mergeCredentials(
        type,
        this.codec.openCredentials(record),
        input.credentials,
      );
    }
    if (newCredentials !== null) {
      changes.credentials = this.codec.sealCredentials(id, newCredentials);
      credentialsReplaced = true;
    }
    if (input.baseUrl !== undefined) changes.base_url = baseUrl;
    if (input.priority !== undefined) changes.priority = input.priority;
    if (input.weight !== undefined) changes.weight = input.weight;
    if (input.enabled !== undefined) changes.enabled = input.enabled ? 1 : 0;
    if (input.schedulable !== undefined) changes.schedulable = input.schedulable ? 1 : 0;
    if (input.models !== undefined) {
      const models = parseModels(input.models);
      changes.models = models === null ? null : JSON.stringify(models);
    }
    if (proxy !== undefined) changes.proxy = this.codec.sealProxy(id, proxy);
    this.resealOutdated(record, changes);
    if (input.concurrencyLimit !== undefined) changes.concurrency_limit = input.concurrencyLimit;
    if (input.subscription !== undefined) {
      const given = parseSubscription(type, input.subscription);
      const subscription =
        newCredentials === null ? given : withCredentialFacts(type, newCredentials, given);
      changes.subscription = subscription === null ? null : JSON.stringify(subscription);
    } else if (newCredentials !== null) {
      // New credentials may carry newer facts (a new ID token's plan): they replace the stored.
      const derived = descriptorOf(type).subscriptionFromCredentials?.(newCredentials) ?? null;
      if (derived !== null) {
        changes.subscription = JSON.stringify({
          ...(this.codec.subscription(record) ?? {}),
          ...derived,
        });
      }
    }
    const groupIds =
      input.groupIds === undefined ? undefined : await this.checkGroups(platform, input.groupIds);

    // New credentials deserve a new chance: auth_failed and blocked were about the old ones.
    const previousStatus = record.status as AccountStatus;
    if (credentialsReplaced && previousStatus !== 'active') {
      changes.status = 'active';
      changes.status_reason = null;
    }

    try {
      if (!(await this.accountsRepository.update(id, changes, groupIds))) throw notFound(id);
    } catch (error) {
      if (changes.name !== undefined && !(error instanceof AccountsException)) {
        const holder = await this.accountsRepository.findByName(changes.name);
        if (holder !== undefined && holder.id !== id) throw this.nameTaken(changes.name);
      }
      throw error;
    }
    if (changes.status === 'active') {
      this.health.noteCredentialsReplaced(id, previousStatus, now);
    }
    await this.invalidate(id);
    const updated = await this.require(id);
    const finalGroups =
      groupIds ?? (await this.accountsRepository.groupIdsByAccount([id])).get(id) ?? [];
    return this.toResponse(updated, finalGroups);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.accountsRepository.delete(id))) throw notFound(id);
    await this.health.forget(id);
    await this.invalidate(id);
  }

  async setEnabled(id: string, enabled: boolean): Promise<AccountResponseDto> {
    return this.update(id, { enabled });
  }

  /** Clears cooling and rate limits everywhere and sets the status back to active. */
  async resetHealth(id: string): Promise<AccountDetailResponseDto> {
    await this.require(id);
    await this.health.reset(id);
    return this.get(id);
  }

  async healthHistory(id: string, limit: number): Promise<HealthEventDto[]> {
    await this.require(id);
    return (await this.health.history(id, limit)).map(toHealthEventDto);
  }

  /** The account as the relay would use it, read fresh from SQL (e.g. for a test request). */
  async routableAccount(id: string): Promise<RoutableAccount> {
    const record = await this.require(id);
    const groupIds = (await this.accountsRepository.groupIdsByAccount([id])).get(id) ?? [];
    return this.codec.toRoutable(record, groupIds);
  }

  /** An account by id, else by exact name (the CLI accepts either). */
  async resolve(idOrName: string): Promise<AccountRecord> {
    const byId = await this.accountsRepository.findById(idOrName);
    if (byId !== undefined) return byId;
    const byName = await this.accountsRepository.findByName(idOrName);
    if (byName !== undefined) return byName;
    throw new AccountsException(
      AccountsExceptionCode.ACCOUNT_NOT_FOUND,
      `no account has the id or name ${JSON.stringify(idOrName)}`,
    );
  }

  toResponse(
    record: AccountRecord,
    groupIds: string[],
    account: RoutableAccount = this.codec.toRoutable(record, groupIds),
    usageWindows: UsageWindow[] = this.health.localUsageWindows(record.id),
  ): AccountResponseDto {
    const credentials = this.codec.openCredentials(record);
    const proxy = this.codec.openProxy(record);
    const why = this.notRoutableBecause(account);
    return {
      id: record.id,
      name: record.name,
      platform: account.platform,
      type: account.type,
      baseUrl: record.base_url,
      effectiveBaseUrl: account.baseUrl,
      priority: record.priority,
      weight: record.weight,
      enabled: record.enabled === 1,
      schedulable: record.schedulable === 1,
      models: account.models,
      credentials:
        credentials === null
          ? { type: record.type, readable: false }
          : describeCredentials(credentials),
      proxy:
        proxy === undefined ? '(cannot be decrypted)' : proxy === null ? null : maskProxyUrl(proxy),
      concurrencyLimit: record.concurrency_limit,
      subscription: account.subscription ?? null,
      status: account.status,
      statusReason: account.statusReason ?? null,
      groupIds,
      // The pool holds uses not yet flushed to SQL.
      lastUsedAt: iso(this.pool.get(record.id)?.lastUsedAt ?? record.last_used_at),
      createdAt: new Date(record.created_at).toISOString(),
      updatedAt: new Date(record.updated_at).toISOString(),
      routable: why === null,
      notRoutableBecause: why,
      usageWindows: usageWindows.map(toUsageWindowDto),
      healthStates: this.health.states(account).map((view) => ({
        state: view.state,
        scope: view.scope,
        until: iso(view.until),
        reason: view.reason,
      })),
    };
  }

  /** Why the scheduler would not pick this account now, or null when it would. */
  notRoutableBecause(account: RoutableAccount): string | null {
    if (!account.enabled) return 'disabled by an admin';
    if (!account.schedulable) return 'not schedulable: kept out of scheduling by an admin';
    const verdict = this.health.routable(account);
    if (verdict.ok || verdict.state.state === 'ok') return null;
    return describeHealthState(verdict.state);
  }

  private async require(id: string): Promise<AccountRecord> {
    const record = await this.accountsRepository.findById(id);
    if (record === undefined) throw notFound(id);
    return record;
  }

  private checkBaseUrl(type: AccountType, baseUrl: string | null): string | null {
    if (baseUrl === null && this.codec.defaultBaseUrl(type) === null) {
      throw new AccountsException(
        AccountsExceptionCode.INVALID_BASE_URL,
        `${type} accounts have no default upstream: baseUrl is required`,
      );
    }
    const problem =
      baseUrl === null ? null : (descriptorOf(type).baseUrlProblem?.(baseUrl) ?? null);
    if (problem !== null) {
      throw new AccountsException(AccountsExceptionCode.INVALID_BASE_URL, problem);
    }
    return baseUrl;
  }

  /**
   * Any save rewrites secrets still in an old format or under an old key (bound to their row),
   * so stores upgrade as accounts are edited even before `switchyard secrets rotate` runs.
   */
  private resealOutdated(record: AccountRecord, changes: AccountChanges): void {
    if (changes.credentials === undefined && this.codec.needsRotation(record.credentials)) {
      const credentials = this.codec.openCredentials(record);
      if (credentials !== null) {
        changes.credentials = this.codec.sealCredentials(record.id, credentials);
      }
    }
    if (changes.proxy === undefined && record.proxy !== null) {
      if (this.codec.needsRotation(record.proxy)) {
        const proxy = this.codec.openProxy(record);
        if (typeof proxy === 'string') changes.proxy = this.codec.sealProxy(record.id, proxy);
      }
    }
  }

  /** Refuses a base URL (when given) or proxy that the upstream host policy does not allow. */
  private checkUpstream(type: AccountType, baseUrl: string | null, proxy: string | null): void {
    const effective = this.codec.effectiveBaseUrl(type, baseUrl);
    const baseRefusal =
      effective === '' ? null : this.codec.hostPolicy.refusal(effective, 'baseUrl');
    if (baseRefusal !== null) {
      throw new AccountsException(AccountsExceptionCode.UPSTREAM_NOT_ALLOWED, baseRefusal, {
        field: 'baseUrl',
      });
    }
    const proxyRefusal = proxy === null ? null : this.codec.hostPolicy.refusal(proxy, 'proxy');
    if (proxyRefusal !== null) {
      throw new AccountsException(AccountsExceptionCode.UPSTREAM_NOT_ALLOWED, proxyRefusal, {
        field: 'proxy',
      });
    }
  }

  /**
   * Which change would send the stored credentials somewhere new: the effective base URL's
   * origin, or a proxy endpoint that is set and differs (a new password for the same proxy, or
   * removing the proxy, sends nothing to a new host). null when neither.
   */
  private credentialsMoveBy(
    record: AccountRecord,
    type: AccountType,
    baseUrl: string | null,
    proxy: string | null | undefined,
  ): 'baseUrl' | 'proxy' | null {
    const before = endpointOf(this.codec.effectiveBaseUrl(type, record.base_url));
    if (endpointOf(this.codec.effectiveBaseUrl(type, baseUrl)) !== before) return 'baseUrl';
    if (proxy === undefined || proxy === null) return null;
    const stored = this.codec.openProxy(record);
    if (stored === null || stored === undefined) return 'proxy';
    return endpointOf(stored) === endpointOf(proxy) ? null : 'proxy';
  }

  /** The complete credentials a base URL or proxy change must carry, else a 400 naming them. */
  private credentialsAgain(
    type: AccountType,
    movedBy: 'baseUrl' | 'proxy',
    input: Record<string, unknown> | undefined,
  ): AccountCredentials {
    const what = movedBy === 'baseUrl' ? "the base URL's host" : 'the proxy';
    const required = (detail: string): AccountsException =>
      new AccountsException(
        AccountsExceptionCode.CREDENTIALS_REQUIRED,
        `changing ${what} sends the account's credentials to a new host: send credentials ` +
          `(${describeCredentialFields(type)}) again in the same request${detail}`,
        { field: 'credentials', because: movedBy },
      );
    if (input === undefined) throw required('');
    try {
      return parseCredentials(type, input);
    } catch (error) {
      if (error instanceof AccountsException) throw required(`: ${error.message}`);
      throw error;
    }
  }

  private async checkNameFree(name: string): Promise<void> {
    if ((await this.accountsRepository.findByName(name)) !== undefined) throw this.nameTaken(name);
  }

  private nameTaken(name: string): AccountsException {
    return new AccountsException(
      AccountsExceptionCode.NAME_TAKEN,
      `an account named ${JSON.stringify(name)} already exists`,
    );
  }

  /** Group ids, de-duplicated, each existing and of the account's platform. */
  private async checkGroups(platform: string, groupIds: string[]): Promise<string[]> {
    const unique = [...new Set(groupIds)];
    const groups = await this.groupsRepository.findByIds(unique);
    const found = new Map(groups.map((group) => [group.id, group]));
    for (const id of unique) {
      const group = found.get(id);
      if (group === undefined) {
        throw new AccountsException(AccountsExceptionCode.GROUP_NOT_FOUND, `group ${id} not found`);
      }
      if (group.platform !== platform) {
        throw new AccountsException(
          AccountsExceptionCode.PLATFORM_MISMATCH,
          `group ${group.name} is for ${group.platform} accounts, this account serves ${platform}`,
        );
      }
    }
    return unique;
  }

  private async invalidate(accountId: string): Promise<void> {
    // Read-your-writes: this instance routes with the change as soon as the admin call returns;
    // the other instances reload on the published invalidation.
    await this.pool.reload();
    try {
      await this.coordinator.publish(accountKeys.channels.invalidation, accountId);
    } catch (error) {
      // Saved in SQL; the pools' safety reload picks the change up within a minute.
      appLogger.warn({ err: error, accountId }, 'could not publish an account invalidation');
    }
  }
}
