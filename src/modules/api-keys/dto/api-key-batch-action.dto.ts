import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsUUID } from 'class-validator';
import type { ApiKeyResponseDto } from './api-key-response.dto';

export const API_KEY_BATCH_ACTIONS = ['enable', 'disable', 'delete', 'restore'] as const;
export type ApiKeyBatchAction = (typeof API_KEY_BATCH_ACTIONS)[number];

/** One action on many keys: what the admin UI's batch selection sends. */
export class ApiKeyBatchActionRequestDto {
  @IsIn(API_KEY_BATCH_ACTIONS)
  action!: ApiKeyBatchAction;

  /** Each key at most once; up to 200 (one page of the list at its largest). */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @IsUUID('all', { each: true })
  ids!: string[];
}

/** A key the action could not be applied to, with the error code it would have answered. */
export class ApiKeyBatchFailureDto {
  id!: string;
  code!: string;
  message!: string;
}

/** Each key is changed on its own: the ones that failed are listed and the others are done. */
export class ApiKeyBatchActionResponseDto {
  /** The keys as they are after the action, in the order asked. */
  items!: ApiKeyResponseDto[];
  failed!: ApiKeyBatchFailureDto[];
}
