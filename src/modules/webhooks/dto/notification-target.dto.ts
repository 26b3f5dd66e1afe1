import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { NOTIFICATION_EVENT_TYPES } from 'src/infra/outbox/outbox.types';
import { targetKinds } from '../target-kinds';

const CONFIG_SCHEMA: ApiPropertyOptions = {
  type: 'object',
  additionalProperties: true,
  description:
    "The kind's settings, secrets included (see docs/notifications.md). webhook: `url`, " +
    '`secret`. email: `host`, `port`, `secure`, `starttls`, `username`, `password`, `from`, `to`.',
};

export class CreateNotificationTargetDto {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  /** `webhook`, `email`, or a chat platform this build has a channel for. */
  @IsIn(targetKinds())
  kind!: string;

  /** Default true. */
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /** The event types to deliver; null or omitted: every type. */
  @ApiProperty({ nullable: true, required: false, type: [String], enum: NOTIFICATION_EVENT_TYPES })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(NOTIFICATION_EVENT_TYPES.length)
  @IsIn(NOTIFICATION_EVENT_TYPES, { each: true })
  events?: string[] | null;

  @ApiProperty(CONFIG_SCHEMA)
  @IsObject()
  config!: Record<string, unknown>;
}

export class UpdateNotificationTargetDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name?: string;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /** The event types to deliver; null: every type. */
  @ApiProperty({ nullable: true, required: false, type: [String], enum: NOTIFICATION_EVENT_TYPES })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @ArrayMaxSize(NOTIFICATION_EVENT_TYPES.length)
  @IsIn(NOTIFICATION_EVENT_TYPES, { each: true })
  events?: string[] | null;

  /**
   * Merged over the stored settings: a field given replaces it (secrets too), a field set to
   * null removes it, a field left out keeps its stored value (so secrets need not be sent again).
   */
  @ApiPropertyOptional(CONFIG_SCHEMA)
  @IsOptional()
  @IsObject()
  config?: Record<string, unknown>;
}

export class NotificationTargetResponseDto {
  id!: string;
  name!: string;
  kind!: string;
  enabled!: boolean;
  /** null: every event type. */
  @ApiProperty({ nullable: true, type: [String] })
  events!: string[] | null;
  /** The non-secret settings. */
  @ApiProperty({ type: 'object', additionalProperties: true })
  config!: Record<string, unknown>;
  /** The secret fields that hold a value (their values are never returned). */
  secretsSet!: string[];
  /** Whether any secret is stored. */
  hasSecret!: boolean;
  /** false when the stored secrets cannot be decrypted (send the configuration again). */
  secretsReadable!: boolean;
  /** ISO 8601. */
  createdAt!: string;
  /** ISO 8601. */
  updatedAt!: string;
}

export class NotificationTargetListResponseDto {
  items!: NotificationTargetResponseDto[];
}

export class NotificationTestResponseDto {
  ok!: boolean;
  /** HTTP status answered; null without an answer and for email. */
  @ApiProperty({ nullable: true, type: Number })
  status!: number | null;
  /** Why it failed; never a secret or the target URL. */
  @ApiProperty({ nullable: true, type: String })
  error!: string | null;
  durationMs!: number;
  /** The delivery-log row of this test. */
  deliveryId!: string;
}

export class NotificationEventTypeDto {
  type!: string;
  /** `info`, `warning` or `critical`. */
  severity!: string;
  description!: string;
}

export class NotificationEventTypeListResponseDto {
  items!: NotificationEventTypeDto[];
}
