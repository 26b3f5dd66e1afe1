import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { PLATFORMS, type Platform } from 'src/common/platform';
import {
  CLIENT_IDS,
  RESERVATION_POLICIES,
  type ClientId,
  type ReservationPolicy,
} from '../api-key.types';

/**
 * Optional, but not nullable: absent leaves the value as it is (or the default), null is refused.
 * `@IsOptional()` would let null through to the service.
 */
export const IsOptionalNotNull = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);

/**
 * Letters, digits and ` ._:@/+-`. No quotes or backslashes: tags are stored as a JSON array and
 * filtered with LIKE on its text, which stays exact only for such characters.
 */
export const TAG_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._:@/+-]{0,63}$/u;

const MAX_MICROS = 1e15;
const MAX_TOKENS = 1e12;
const MAX_REQUESTS = 1e9;

/**
 * Limits of a key. Costs in micro-dollars (1 USD = 1,000,000). On create, null is the same as
 * absent; on update, null removes that limit and absent keeps it.
 */
export class ApiKeyLimitsDto {
  /** Length of the fixed window the three window limits count in. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10080)
  windowMinutes?: number | null;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_REQUESTS)
  windowRequests?: number | null;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TOKENS)
  windowTokens?: number | null;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_MICROS)
  windowCostMicros?: number | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  concurrency?: number | null;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_MICROS)
  dailyCostMicros?: number | null;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_MICROS)
  weeklyCostMicros?: number | null;

  /** 0 = Sunday … 6 = Saturday (UTC); default 1. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(6)
  weeklyResetDay?: number | null;

  /** 0-23 UTC; default 0. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(23)
  weeklyResetHour?: number | null;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_MICROS)
  totalCostMicros?: number | null;
}

/** Exactly one of accountId and groupId (checked by the service, which the CLI also calls). */
export class ApiKeyBindingDto {
  @IsOptional()
  @IsString()
  @Length(1, 64)
  accountId?: string;

  @IsOptional()
  @IsString()
  @Length(1, 64)
  groupId?: string;
}

/** A dedicated account or group per platform; on update, null removes that platform's binding. */
export class ApiKeyBindingsDto {
  @IsOptional()
  @ValidateNested()
  @Type(() => ApiKeyBindingDto)
  claude?: ApiKeyBindingDto | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => ApiKeyBindingDto)
  gemini?: ApiKeyBindingDto | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => ApiKeyBindingDto)
  openai?: ApiKeyBindingDto | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => ApiKeyBindingDto)
  droid?: ApiKeyBindingDto | null;
}

export class ModelPolicyDto {
  @IsIn(['allow', 'deny'])
  mode!: 'allow' | 'deny';

  /** Model names; `*` matches any run of characters (`claude-*-4*`). */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  patterns!: string[];
}

/** Fields shared by create, batch create and update. */
export class ApiKeyFieldsDto {
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string | null;

  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(20)
  @Matches(TAG_PATTERN, {
    each: true,
    message: 'each tag must be 1-64 of letters, digits, ._:@/+-',
  })
  tags?: string[];

  @IsOptional()
  @IsString()
  @Length(1, 128)
  owner?: string | null;

  @IsOptionalNotNull()
  @IsBoolean()
  enabled?: boolean;

  /** A fixed expiry (ISO 8601). Exclusive with expiresAfterDays. */
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string | null;

  /** Expires this many days after its first use. Exclusive with expiresAt. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  expiresAfterDays?: number | null;

  /** Platforms the key may use; every platform when absent on create. */
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(PLATFORMS.length)
  @IsIn(PLATFORMS, { each: true })
  permissions?: Platform[];

  /** null: every model. */
  @IsOptional()
  @ValidateNested()
  @Type(() => ModelPolicyDto)
  modelPolicy?: ModelPolicyDto | null;

  /** null: any client. Otherwise only these, recognised by User-Agent. */
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(CLIENT_IDS.length)
  @IsIn(CLIENT_IDS, { each: true })
  allowedClients?: ClientId[] | null;

  @IsOptionalNotNull()
  @ValidateNested()
  @Type(() => ApiKeyBindingsDto)
  bindings?: ApiKeyBindingsDto;

  @IsOptionalNotNull()
  @ValidateNested()
  @Type(() => ApiKeyLimitsDto)
  limits?: ApiKeyLimitsDto;

  /** Multiplies the cost charged against the key's budgets; default 1. */
  @IsOptionalNotNull()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  priceMultiplier?: number;

  /**
   * How requests reserve against the cost caps: `strict` (default) reserves each request's worst
   * case and never passes a cap; `estimate` reserves what the key's recent requests cost and may
   * pass a cap by at most one request's worst case per request in flight.
   */
  @IsOptionalNotNull()
  @IsIn(RESERVATION_POLICIES)
  reservationPolicy?: ReservationPolicy;
}
