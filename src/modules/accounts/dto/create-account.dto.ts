import {
  Allow,
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ACCOUNT_TYPES, type AccountType } from '../account.types';
import { ACCOUNT_MODELS_SCHEMA } from './account.response.dto';

/**
 * What creating an account takes. Structured fields (credentials, models, proxy, subscription)
 * are checked per account type by the service, which answers a clear 400 naming the problem.
 */
export interface CreateAccountInput {
  name: string;
  type: AccountType;
  credentials: Record<string, unknown>;
  baseUrl?: string | null;
  priority?: number;
  weight?: number;
  enabled?: boolean;
  schedulable?: boolean;
  models?: unknown;
  proxy?: string | null;
  concurrencyLimit?: number | null;
  subscription?: Record<string, unknown> | null;
  groupIds?: string[];
}

export const PRIORITY_DEFAULT = 50;
export const WEIGHT_DEFAULT = 1;

export class CreateAccountDto implements CreateAccountInput {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @IsIn(ACCOUNT_TYPES)
  type!: AccountType;

  /**
   * The fields of the type's descriptor (GET /admin/api/account-types lists them), e.g.
   * claude-oauth: { accessToken, refreshToken?, expiresAt? }; claude-console: { apiKey, authScheme? }.
   */
  @IsObject()
  credentials!: Record<string, unknown>;

  /** Defaults to the type's default base URL; required for types without one (ccr). */
  @IsOptional()
  @IsString()
  @MaxLength(512)
  baseUrl?: string | null;

  /** Lower is preferred. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  priority?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  weight?: number;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @IsOptional()
  @IsBoolean()
  schedulable?: boolean;

  /** null (every model), a list of names (`*` wildcards), or a mapping to upstream names. */
  @ApiPropertyOptional(ACCOUNT_MODELS_SCHEMA)
  @IsOptional()
  @Allow()
  models?: unknown;

  /** http://, https:// or socks5:// with optional user:pass. */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  proxy?: string | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  concurrencyLimit?: number | null;

  /**
   * Types whose descriptor supports subscription facts (claude-oauth):
   * { plan?, email?, organizationName?, organizationUuid?, accountUuid?, scopes? }.
   */
  @IsOptional()
  @IsObject()
  subscription?: Record<string, unknown> | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  groupIds?: string[];
}
