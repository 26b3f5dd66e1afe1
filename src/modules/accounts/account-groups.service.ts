import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { appLogger } from 'src/common/logging/app-logger';
import type { Platform } from 'src/common/platform';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { accountKeys } from './account-coordination.keys';
import {
  AccountGroupsRepository,
  type AccountGroupListQuery,
  type AccountGroupRecord,
} from './account-groups.repository';
import { AccountsException, AccountsExceptionCode } from './accounts.exception';
import { AccountPool } from './account-pool.service';
import { AccountsRepository } from './accounts.repository';
import type {
  AccountGroupListResponseDto,
  AccountGroupResponseDto,
  CreateAccountGroupInput,
  UpdateAccountGroupDto,
} from './dto/account-group.dto';

function groupNotFound(id: string): AccountsException {
  return new AccountsException(AccountsExceptionCode.GROUP_NOT_FOUND, `group ${id} not found`);
}

/** Account groups (a key may be bound to one) and their members. */
@Injectable()
export class AccountGroupsService {
  constructor(
    private readonly groupsRepository: AccountGroupsRepository,
    private readonly accountsRepository: AccountsRepository,
    private readonly pool: AccountPool,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {}

  async create(input: CreateAccountGroupInput): Promise<AccountGroupResponseDto> {
    const name = input.name.trim();
    await this.checkNameFree(name);
    const accountIds = await this.checkMembers(input.platform, input.accountIds ?? []);
    const now = Date.now();
    const record: AccountGroupRecord = {
      id: randomUUID(),
      name,
      platform: input.platform,
      description: input.description ?? null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.groupsRepository.insert(record, accountIds);
    } catch (error) {
      if ((await this.groupsRepository.findByName(name)) !== undefined) throw this.nameTaken(name);
      throw error;
    }
    await this.invalidate();
    return this.toResponse(record, accountIds);
  }

  async list(platform?: Platform): Promise<AccountGroupResponseDto[]> {
    const records = await this.groupsRepository.list(platform);
    const members = await this.groupsRepository.memberIds(records.map((r) => r.id));
    return records.map((record) => this.toResponse(record, members.get(record.id) ?? []));
  }

  /** One page of groups for the admin list. */
  async page(query: AccountGroupListQuery): Promise<AccountGroupListResponseDto> {
    const { records, total } = await this.groupsRepository.page(query);
    const members = await this.groupsRepository.memberIds(records.map((r) => r.id));
    return {
      items: records.map((record) => this.toResponse(record, members.get(record.id) ?? [])),
      total,
      page: query.page,
      pageSize: query.pageSize,
    };
  }

  async get(id: string): Promise<AccountGroupResponseDto> {
    const record = await this.require(id);
    const members = await this.groupsRepository.memberIds([id]);
    return this.toResponse(record, members.get(id) ?? []);
  }

  async update(id: string, input: UpdateAccountGroupDto): Promise<AccountGroupResponseDto> {
    const record = await this.require(id);
    const changes: { name?: string; description?: string | null; updated_at: number } = {
      updated_at: Date.now(),
    };
    if (input.name !== undefined && input.name.trim() !== record.name) {
      changes.name = input.name.trim();
      await this.checkNameFree(changes.name);
    }
    if (input.description !== undefined) changes.description = input.description;
    try {
      await this.groupsRepository.update(id, changes);
    } catch (error) {
      if (changes.name !== undefined) {
        const holder = await this.groupsRepository.findByName(changes.name);
        if (holder !== undefined && holder.id !== id) throw this.nameTaken(changes.name);
      }
      throw error;
    }
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.groupsRepository.delete(id))) throw groupNotFound(id);
    await this.invalidate();
  }

  /** Replaces the members; every account must exist and serve the group's platform. */
  async setMembers(id: string, accountIds: string[]): Promise<AccountGroupResponseDto> {
    const record = await this.require(id);
    const members = await this.checkMembers(record.platform, accountIds);
    await this.groupsRepository.replaceMembers(id, members);
    await this.groupsRepository.update(id, { updated_at: Date.now() });
    await this.invalidate();
    return this.get(id);
  }

  private toResponse(record: AccountGroupRecord, accountIds: string[]): AccountGroupResponseDto {
    return {
      id: record.id,
      name: record.name,
      platform: record.platform as Platform,
      description: record.description,
      accountIds,
      createdAt: new Date(record.created_at).toISOString(),
      updatedAt: new Date(record.updated_at).toISOString(),
    };
  }

  private async require(id: string): Promise<AccountGroupRecord> {
    const record = await this.groupsRepository.findById(id);
    if (record === undefined) throw groupNotFound(id);
    return record;
  }

  private async checkNameFree(name: string): Promise<void> {
    if ((await this.groupsRepository.findByName(name)) !== undefined) throw this.nameTaken(name);
  }

  private nameTaken(name: string): AccountsException {
    return new AccountsException(
      AccountsExceptionCode.GROUP_NAME_TAKEN,
      `a group named ${JSON.stringify(name)} already exists`,
    );
  }

  private async checkMembers(platform: string, accountIds: string[]): Promise<string[]> {
    const unique = [...new Set(accountIds)];
    const accounts = new Map(
      (await this.accountsRepository.findByIds(unique)).map((account) => [account.id, account]),
    );
    for (const id of unique) {
      const account = accounts.get(id);
      if (account === undefined) {
        throw new AccountsException(
          AccountsExceptionCode.ACCOUNT_NOT_FOUND,
          `account ${id} not found`,
        );
      }
      if (account.platform !== platform) {
        throw new AccountsException(
          AccountsExceptionCode.PLATFORM_MISMATCH,
          `account ${account.name} serves ${account.platform}, the group is for ${platform}`,
        );
      }
    }
    return unique;
  }

  private async invalidate(): Promise<void> {
    // Read-your-writes here; other instances reload on the published invalidation.
    await this.pool.reload();
    try {
      await this.coordinator.publish(accountKeys.channels.invalidation, '*');
    } catch (error) {
      appLogger.warn({ err: error }, 'could not publish an account group invalidation');
    }
  }
}
