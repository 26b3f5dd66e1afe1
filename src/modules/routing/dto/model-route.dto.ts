import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import {
  PageQueryDto,
  SORT_ORDERS,
  toBoolean,
  TrimSearch,
  type SortOrder,
} from 'src/common/http/list-query.dto';
import { PLATFORMS, type Platform } from 'src/common/platform';

/** Optional but not nullable: absent keeps the value, null is refused (IsOptional lets it by). */
const IsOptionalNotNull = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);

/** Model names carry no whitespace or control characters; a typo'd space would never match. */
const PATTERN = /^[^\s\p{Cc}]+$/u;
const TARGET_MODEL = /^[^\s\p{Cc}*]+$/u;
const MAX_NAME_LENGTH = 200;
const MAX_POSITION = 1_000_000;

export interface ModelRouteInput {
  pattern: string;
  platform: Platform;
  targetModel?: string | null;
  position?: number;
  enabled?: boolean;
  note?: string | null;
}

export class CreateModelRouteDto implements ModelRouteInput {
  /** An exact model name, or a pattern where `*` matches any run of characters. */
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  @Matches(PATTERN, { message: 'pattern must not contain whitespace or control characters' })
  pattern!: string;

  @IsIn(PLATFORMS)
  platform!: Platform;

  /** Send this model name instead of the requested one; absent or null keeps the name. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  @Matches(TARGET_MODEL, {
    message: 'targetModel must be one model name: no whitespace, control characters or *',
  })
  targetModel?: string | null;

  /** Order among patterns (ascending); absent puts the route after every other one. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_POSITION)
  position?: number;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string | null;
}

/** Absent fields stay as they are; null clears targetModel and note. */
export class UpdateModelRouteDto {
  @IsOptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  @Matches(PATTERN, { message: 'pattern must not contain whitespace or control characters' })
  pattern?: string;

  @IsOptionalNotNull()
  @IsIn(PLATFORMS)
  platform?: Platform;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  @Matches(TARGET_MODEL, {
    message: 'targetModel must be one model name: no whitespace, control characters or *',
  })
  targetModel?: string | null;

  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(MAX_POSITION)
  position?: number;

  @IsOptionalNotNull()
  @IsBoolean()
  enabled?: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string | null;
}

export const MODEL_ROUTE_SORT_FIELDS = [
  'evaluation',
  'pattern',
  'platform',
  'position',
  'createdAt',
  'updatedAt',
] as const;
export type ModelRouteSortField = (typeof MODEL_ROUTE_SORT_FIELDS)[number];

/** Query string of `GET /admin/api/model-routes`, over the routes this instance applies now. */
export class ListModelRoutesQueryDto extends PageQueryDto {
  @IsOptional()
  @IsIn(PLATFORMS)
  platform?: Platform;

  /** Only the routes whose pattern matches this model name (the first of them wins). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  model?: string;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  enabled?: boolean;

  /** Case-insensitive substring of the pattern, target model or note. */
  @IsOptional()
  @TrimSearch()
  @IsString()
  @MaxLength(128)
  search?: string;

  /** `evaluation` (default): exact names first, then patterns by position, as requests see them. */
  @IsIn(MODEL_ROUTE_SORT_FIELDS)
  sortBy: ModelRouteSortField = 'evaluation';

  @IsIn(SORT_ORDERS)
  sortOrder: SortOrder = 'asc';
}

export class ResolveModelRouteQueryDto {
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  model!: string;
}

export class ModelRouteResponseDto {
  id!: string;
  /** Lower-case; matched ignoring case. Without `*` it is an exact name. */
  pattern!: string;
  platform!: Platform;
  targetModel!: string | null;
  position!: number;
  enabled!: boolean;
  note!: string | null;
  createdAt!: string;
  updatedAt!: string;
}

export class ModelRouteListResponseDto {
  /** By default in evaluation order: exact names first, then patterns by position, then id. */
  items!: ModelRouteResponseDto[];
  total!: number;
  page!: number;
  pageSize!: number;
}

export class RouteMatchDto {
  platform!: Platform;
  /** The model name the platform's accounts are asked for. */
  model!: string;
  routeId!: string;
}

export class ModelRouteResolutionDto {
  /** The model name asked about. */
  model!: string;
  /** Where a request for it goes, or null when no enabled route matches. */
  route!: RouteMatchDto | null;
}
