import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { ApiKeyFieldsDto, IsOptionalNotNull } from './api-key-fields.dto';

export class CreateApiKeyRequestDto extends ApiKeyFieldsDto {
  @IsString()
  @Length(1, 128)
  name!: string;
}

/** N keys with the same policy, named from a pattern: `{n}` becomes 1…N, zero-padded. */
export class BatchCreateApiKeysRequestDto extends ApiKeyFieldsDto {
  @IsInt()
  @Min(1)
  @Max(500)
  count!: number;

  /** `team-{n}`; without `{n}`, `-{n}` is appended. */
  @IsString()
  @Length(1, 120)
  namePattern!: string;
}

export class UpdateApiKeyRequestDto extends ApiKeyFieldsDto {
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 128)
  name?: string;
}
