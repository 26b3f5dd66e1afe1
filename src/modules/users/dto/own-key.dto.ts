import { OmitType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import {
  CreateApiKeyRequestDto,
  UpdateApiKeyRequestDto,
} from 'src/modules/api-keys/dto/create-api-key.dto';
import { ListApiKeysQueryDto } from 'src/modules/api-keys/dto/list-api-keys.dto';
import {
  RequestLogQueryDto,
  TimeRangeQueryDto,
  UsageSummaryQueryDto,
} from 'src/modules/usage/dto/usage-query.dto';
import { USAGE_BUCKETS, type UsageBucket } from 'src/modules/usage/usage-range';

/**
 * What a user may set on their own key: the admin's key fields but the owner (their username),
 * account bindings, the price multiplier and the reservation policy (always `strict`, so a key
 * never spends past a cap). Absent or empty `permissions` and absent `modelPolicy` mean the
 * caps' lists; a limit left out gets the cap's ceiling.
 */
const ADMIN_ONLY_FIELDS = ['owner', 'bindings', 'priceMultiplier', 'reservationPolicy'] as const;

export class CreateOwnKeyRequestDto extends OmitType(CreateApiKeyRequestDto, ADMIN_ONLY_FIELDS) {}

export class UpdateOwnKeyRequestDto extends OmitType(UpdateApiKeyRequestDto, ADMIN_ONLY_FIELDS) {}

/** The caller's keys only, never deleted ones. */
export class ListOwnKeysQueryDto extends OmitType(ListApiKeysQueryDto, [
  'owner',
  'userId',
  'deleted',
] as const) {}

/** Totals over the caller's keys, or one of them. */
export class OwnUsageSummaryQueryDto extends OmitType(UsageSummaryQueryDto, [
  'accountId',
  'keyId',
] as const) {
  @IsOptional()
  @IsUUID()
  keyId?: string;
}

export class OwnUsageTimeseriesQueryDto extends TimeRangeQueryDto {
  /** Default `hour`. */
  @IsOptional()
  @IsIn(USAGE_BUCKETS)
  bucket?: UsageBucket;

  /** One of the caller's keys; all of them when absent. */
  @IsOptional()
  @IsUUID()
  keyId?: string;
}

export class OwnRequestLogQueryDto extends OmitType(RequestLogQueryDto, [
  'accountId',
  'keyId',
] as const) {
  @IsOptional()
  @IsUUID()
  keyId?: string;
}
