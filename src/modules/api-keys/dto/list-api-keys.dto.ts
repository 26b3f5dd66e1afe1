import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { TAG_PATTERN } from './api-key-fields.dto';

export const API_KEY_SORT_FIELDS = ['name', 'createdAt', 'lastUsedAt', 'expiresAt'] as const;
export type ApiKeySortField = (typeof API_KEY_SORT_FIELDS)[number];
export const DELETED_FILTERS = ['exclude', 'include', 'only'] as const;
export type DeletedFilter = (typeof DELETED_FILTERS)[number];

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

/** Query string of `GET /admin/api/keys`; pagination, filters and sorting all run in SQL. */
export class ListApiKeysQueryDto {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page: number = 1;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  pageSize: number = 20;

  /** Case-insensitive substring of name, description or owner. */
  @IsOptional()
  @IsString()
  @MaxLength(128)
  search?: string;

  @IsOptional()
  @Matches(TAG_PATTERN)
  tag?: string;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  owner?: string;

  /** Only the keys this user owns (created through self-service). */
  @IsOptional()
  @IsUUID()
  userId?: string;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  enabled?: boolean;

  /** Soft-deleted keys: left out by default. */
  @IsIn(DELETED_FILTERS)
  deleted: DeletedFilter = 'exclude';

  @IsIn(API_KEY_SORT_FIELDS)
  sortBy: ApiKeySortField = 'createdAt';

  @IsIn(['asc', 'desc'])
  sortOrder: 'asc' | 'desc' = 'desc';
}
