import { Transform, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

/** Accepts epoch milliseconds or an ISO 8601 time (`2025-06-01`, `2025-06-01T12:00:00Z`). */
function toEpochMs({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? value : parsed;
}

const TIME_MESSAGE = '$property must be an ISO 8601 time or epoch milliseconds';

/** The filters of the audit list and its CSV export. Time range half-open `[from, to)`. */
export class AuditFilterQueryDto {
  /** A username, `cli` or `anonymous`. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  actor?: string;

  /** Exact (`accounts.update`), or a prefix ending in `*` (`accounts.*`, `auth.*`). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(120)
  @Matches(/^[^*]*\*?$/, { message: 'action takes `*` only at its end (a prefix)' })
  action?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  targetType?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  targetId?: string;

  /** `success`, `failure` (every other outcome), or one error code (`VALIDATION_FAILED`). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  outcome?: string;

  @IsOptional()
  @Transform(toEpochMs)
  @IsInt({ message: TIME_MESSAGE })
  from?: number;

  @IsOptional()
  @Transform(toEpochMs)
  @IsInt({ message: TIME_MESSAGE })
  to?: number;

  /** By time; default `desc` (newest first). */
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';
}

export class AuditListQueryDto extends AuditFilterQueryDto {
  /** 1-based; default 1. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page?: number;

  /** Default 50. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  pageSize?: number;
}
