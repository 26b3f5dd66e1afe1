import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from 'src/common/http/list-query.dto';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

export class ListDeliveriesQueryDto extends PageQueryDto {
  @IsOptional()
  @IsString()
  @MaxLength(36)
  targetId?: string;

  /** `pending` (queued or retrying), `delivered`, `failed` (gave up). */
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: (typeof DELIVERY_STATUSES)[number];

  /** e.g. `account.auth_failed`, `notification.test`. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  eventType?: string;
}

export class NotificationDeliveryResponseDto {
  id!: string;
  /** The outbox event id, sent as `x-switchyard-delivery`. */
  eventId!: string;
  targetId!: string;
  eventType!: string;
  /** The message title. */
  title!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES })
  status!: string;
  attempts!: number;
  /** ISO 8601; null once delivered or given up. */
  @ApiProperty({ nullable: true, type: String })
  nextAttemptAt!: string | null;
  @ApiProperty({ nullable: true, type: Number })
  lastStatus!: number | null;
  /** Never a secret or a URL. */
  @ApiProperty({ nullable: true, type: String })
  lastError!: string | null;
  @ApiProperty({ nullable: true, type: Number })
  lastDurationMs!: number | null;
  @ApiProperty({ nullable: true, type: String })
  deliveredAt!: string | null;
  createdAt!: string;
  updatedAt!: string;
}

export class NotificationDeliveryListResponseDto {
  items!: NotificationDeliveryResponseDto[];
  total!: number;
  page!: number;
  pageSize!: number;
}
