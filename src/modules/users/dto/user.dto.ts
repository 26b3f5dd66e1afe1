import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ROLES, type Role } from 'src/common/auth/route-access.decorator';
import { PLATFORMS, type Platform } from 'src/common/platform';
import { IsOptionalNotNull } from 'src/modules/api-keys/dto/api-key-fields.dto';
import type { CapLimits } from '../user-caps';

const MAX_MICROS = 1e15;

/** Letters, digits and `._@-`, starting with a letter or digit. */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const MAX_KEYS_CAP = 1000;

/**
 * Ceilings of a user's key limits (costs in micro-dollars). On create null is absent; on update
 * null removes that ceiling and absent keeps it.
 */
export class UserCapLimitsDto {
  /** The window the three window ceilings count in; a capped key's window must equal it. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10080)
  windowMinutes?: number | null;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1e9)
  windowRequests?: number | null;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1e12)
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

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_MICROS)
  totalCostMicros?: number | null;
}

/** What a user's own keys may not exceed; on update each field left out keeps its value. */
export class UserCapsDto {
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(MAX_KEYS_CAP)
  maxKeys?: number;

  @IsOptionalNotNull()
  @ValidateNested()
  @Type(() => UserCapLimitsDto)
  limits?: UserCapLimitsDto;

  /** Model patterns (`*` wildcards) the keys may allow; null: any model. */
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  models?: string[] | null;

  /** null: every platform. */
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(PLATFORMS.length)
  @IsIn(PLATFORMS, { each: true })
  platforms?: Platform[] | null;
}

export class CreateUserRequestDto {
  @Matches(USERNAME_PATTERN, {
    message: 'username must be 1-64 of letters, digits and ._@- (starting with a letter or digit)',
  })
  username!: string;

  @IsIn(ROLES)
  role!: Role;

  /** Generated (and returned once) when omitted. */
  @IsOptionalNotNull()
  @IsString()
  @Length(8, 256)
  password?: string;

  /** Defaults: 5 keys, no other ceiling. */
  @IsOptionalNotNull()
  @ValidateNested()
  @Type(() => UserCapsDto)
  caps?: UserCapsDto;
}

export class UpdateUserRequestDto {
  @IsOptionalNotNull()
  @IsIn(ROLES)
  role?: Role;

  /** A disabled user cannot log in, their sessions end, and their keys stop working at once. */
  @IsOptionalNotNull()
  @IsBoolean()
  disabled?: boolean;

  @IsOptionalNotNull()
  @ValidateNested()
  @Type(() => UserCapsDto)
  caps?: UserCapsDto;
}

export class ResetPasswordRequestDto {
  /** Generated (and returned once) when omitted. */
  @IsOptionalNotNull()
  @IsString()
  @Length(8, 256)
  password?: string;
}

export const USER_SORT_FIELDS = ['username', 'role', 'createdAt', 'lastLoginAt'] as const;
export type UserSortField = (typeof USER_SORT_FIELDS)[number];

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

/** Query string of `GET /admin/api/users`; pagination, filters and sorting all run in SQL. */
export class ListUsersQueryDto {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page: number = 1;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  pageSize: number = 20;

  /** Case-insensitive substring of the username. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  search?: string;

  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  disabled?: boolean;

  @IsIn(USER_SORT_FIELDS)
  sortBy: UserSortField = 'username';

  @IsIn(['asc', 'desc'])
  sortOrder: 'asc' | 'desc' = 'asc';
}

export class UserCapsResponseDto {
  maxKeys!: number;
  limits!: CapLimits;
  models!: string[] | null;
  platforms!: Platform[] | null;
}

/** A user as the admin API shows it: never the password or its hash. */
export class UserResponseDto {
  id!: string;
  username!: string;
  role!: Role;
  disabled!: boolean;
  /**
   * `local`: a password stored here; `ldap`: the directory checks the password and decides the
   * role at each login (a password reset here makes the user local).
   */
  authSource!: 'local' | 'ldap';
  caps!: UserCapsResponseDto;
  createdAt!: string;
  updatedAt!: string;
  lastLoginAt!: string | null;
}

/** Create and password reset: the password appears only when it was generated, and only here. */
export class UserWithPasswordResponseDto extends UserResponseDto {
  generatedPassword?: string;
}

export class UserListResponseDto {
  items!: UserResponseDto[];
  total!: number;
  page!: number;
  pageSize!: number;
}
