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
import {
  PageQueryDto,
  SORT_ORDERS,
  TrimSearch,
  type SortOrder,
} from 'src/common/http/list-query.dto';
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

export const ACCOUNT_GROUP_SORT_FIELDS = ['name', 'createdAt', 'updatedAt'] as const;
export type AccountGroupSortField = (typeof ACCOUNT_GROUP_SORT_FIELDS)[number];

/** Query string of `GET /admin/api/account-groups`; filters, sorting and paging run in SQL. */
export class ListAccountGroupsQueryDto extends PageQueryDto {
  @IsOptional()
  @IsIn(PLATFORMS)
  platform?: Platform;

  /** Case-insensitive substring of the name or description. */
  @IsOptional()
  @TrimSearch()
  @IsString()
  @MaxLength(128)
  search?: string;

  @IsIn(ACCOUNT_GROUP_SORT_FIELDS)
  sortBy: AccountGroupSortField = 'name';

  @IsIn(SORT_ORDERS)
  sortOrder: SortOrder = 'asc';
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
  total!: number;
  page!: number;
  pageSize!: number;
}
