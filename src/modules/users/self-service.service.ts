import { Injectable } from '@nestjs/common';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { ApiKeysService, type OwnedKeyChange } from 'src/modules/api-keys/api-keys.service';
import type {
  ApiKeyListResponseDto,
  ApiKeyResponseDto,
  CreatedApiKeyResponseDto,
} from 'src/modules/api-keys/dto/api-key-response.dto';
import type {
  RequestLogPageDto,
  UsageSummaryDto,
  UsageTimeseriesDto,
} from 'src/modules/usage/dto/usage-response.dto';
import { UsageStatsService } from 'src/modules/usage/usage-stats.service';
import type {
  CreateOwnKeyRequestDto,
  ListOwnKeysQueryDto,
  OwnRequestLogQueryDto,
  OwnUsageSummaryQueryDto,
  OwnUsageTimeseriesQueryDto,
  UpdateOwnKeyRequestDto,
} from './dto/own-key.dto';
import type { UserCapsResponseDto } from './dto/user.dto';
import { capExceeded, fitKeyToCaps, type UserCaps } from './user-caps';
import { UsersService } from './users.service';

/** The signed-in user acting on their own keys and usage. */
export interface SelfServiceCaller {
  id: string;
  username: string;
}

/**
 * Self-service: a signed-in user's own keys, within the caps an admin set for them, and the
 * usage of those keys only. Every call is scoped by the caller's id from their session, never
 * by anything in the request: another user's key is "not found".
 */
@Injectable()
export class SelfServiceService {
  constructor(
    private readonly users: UsersService,
    private readonly keys: ApiKeysService,
    private readonly stats: UsageStatsService,
  ) {}

  async caps(caller: SelfServiceCaller): Promise<UserCapsResponseDto> {
    const caps = await this.users.capsOf(caller.id);
    return { ...caps, limits: { ...caps.limits } };
  }

  async createKey(
    caller: SelfServiceCaller,
    input: CreateOwnKeyRequestDto,
  ): Promise<CreatedApiKeyResponseDto> {
    const caps = await this.users.capsOf(caller.id);
    return this.keys.create(input, {
      ...this.fitting(caller, caps),
      username: caller.username,
      maxKeys: caps.maxKeys,
      tooMany: (held) =>
        capExceeded([{ cap: 'maxKeys', limit: caps.maxKeys, requested: held + 1 }]),
    });
  }

  listKeys(caller: SelfServiceCaller, query: ListOwnKeysQueryDto): Promise<ApiKeyListResponseDto> {
    return this.keys.list({ ...query, userId: caller.id, deleted: 'exclude' });
  }

  getKey(caller: SelfServiceCaller, id: string): Promise<ApiKeyResponseDto> {
    return this.keys.get(id, { userId: caller.id });
  }

  async updateKey(
    caller: SelfServiceCaller,
    id: string,
    patch: UpdateOwnKeyRequestDto,
  ): Promise<ApiKeyResponseDto> {
    const caps = await this.users.capsOf(caller.id);
    return this.keys.update(id, patch, this.fitting(caller, caps));
  }

  setKeyEnabled(
    caller: SelfServiceCaller,
    id: string,
    enabled: boolean,
  ): Promise<ApiKeyResponseDto> {
    return this.keys.setEnabled(id, enabled, { userId: caller.id });
  }

  rotateKey(caller: SelfServiceCaller, id: string): Promise<CreatedApiKeyResponseDto> {
    return this.keys.rotate(id, { userId: caller.id });
  }

  removeKey(caller: SelfServiceCaller, id: string): Promise<ApiKeyResponseDto> {
    return this.keys.remove(id, { userId: caller.id });
  }

  async usageSummary(
    caller: SelfServiceCaller,
    query: OwnUsageSummaryQueryDto,
  ): Promise<UsageSummaryDto> {
    return this.stats.summaryOfKeys(await this.keyIds(caller, query.keyId), query);
  }

  async usageTimeseries(
    caller: SelfServiceCaller,
    query: OwnUsageTimeseriesQueryDto,
  ): Promise<UsageTimeseriesDto> {
    return this.stats.timeseriesOfKeys(await this.keyIds(caller, query.keyId), query);
  }

  /** The request log of the caller's keys; which upstream account served is not shown. */
  async requests(
    caller: SelfServiceCaller,
    query: OwnRequestLogQueryDto,
  ): Promise<RequestLogPageDto> {
    const page = await this.stats.requestsOfKeys(await this.keyIds(caller, query.keyId), {
      ...query,
      keyId: undefined,
    });
    return { ...page, items: page.items.map((item) => ({ ...item, accountId: null })) };
  }

  private fitting(caller: SelfServiceCaller, caps: UserCaps): OwnedKeyChange {
    return { userId: caller.id, fit: (scope) => fitKeyToCaps(scope, caps) };
  }

  /**
   * The caller's keys (deleted ones too: their usage is still the caller's), or the one asked
   * for when it is theirs. Another user's key id is "not found", as everywhere here.
   */
  private async keyIds(caller: SelfServiceCaller, keyId: string | undefined): Promise<string[]> {
    const own = await this.keys.idsOfUser(caller.id);
    if (keyId === undefined) return own;
    if (!own.includes(keyId)) throw ApiKeyException.notFound(keyId);
    return [keyId];
  }
}
