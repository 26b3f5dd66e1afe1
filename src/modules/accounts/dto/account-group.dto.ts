import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { PLATFORMS, type Platform } from 'src/common/platform';

export interface CreateAccountGroupInput {
  name: string;
  platform: Platform;
  description?: string | null;
  accountIds?: string[];
}

export class CreateAccountGroupDto implements CreateAccountGroupInput {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @IsIn(PLATFORMS)
  platform!: Platform;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  accountIds?: string[];
}

/** The platform of a group is fixed: its members all serve it. */
export class UpdateAccountGroupDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string | null;
}

export class SetGroupMembersDto {
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  accountIds!: string[];
}

export class ListAccountGroupsQueryDto {
  @IsOptional()
  @IsIn(PLATFORMS)
  platform?: Platform;
}

export class AccountGroupResponseDto {
  id!: string;
  name!: string;
  platform!: Platform;
  description!: string | null;
  accountIds!: string[];
  createdAt!: string;
  updatedAt!: string;
}

export class AccountGroupListResponseDto {
  items!: AccountGroupResponseDto[];
}
