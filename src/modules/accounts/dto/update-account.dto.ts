import {
  Allow,
  ArrayMaxSize,
  IsArray,
  IsBoolean,
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

/**
 * Changes to an account; omitted fields stay. `null` clears baseUrl, proxy, models,
 * concurrencyLimit and subscription. Credentials merge into the stored ones (`null` removes an
 * optional field such as refreshToken). The type cannot change: create a new account instead.
 */
export interface UpdateAccountInput {
  name?: string;
  credentials?: Record<string, unknown>;
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

export class UpdateAccountDto implements UpdateAccountInput {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;

  @IsOptional()
  @IsObject()
  credentials?: Record<string, unknown>;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  baseUrl?: string | null;

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

  @IsOptional()
  @Allow()
  models?: unknown;

  @IsOptional()
  @IsString()
  @MaxLength(2048)
  proxy?: string | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  concurrencyLimit?: number | null;

  @IsOptional()
  @IsObject()
  subscription?: Record<string, unknown> | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  groupIds?: string[];
}
