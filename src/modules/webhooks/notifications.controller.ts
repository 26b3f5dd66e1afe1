import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
import { AuditRoute } from 'src/modules/audit/audit.decorators';
import {
  ListDeliveriesQueryDto,
  NotificationDeliveryListResponseDto,
  NotificationDeliveryResponseDto,
} from './dto/notification-delivery.dto';
import {
  CreateNotificationTargetDto,
  NotificationEventTypeListResponseDto,
  NotificationTargetListResponseDto,
  NotificationTargetResponseDto,
  NotificationTestResponseDto,
  UpdateNotificationTargetDto,
} from './dto/notification-target.dto';
import { notificationEventTypes } from './notification-events';
import { NotificationsService } from './notifications.service';

/**
 * Notification targets and their delivery log. Admins change them; viewers read them (secrets
 * are never returned to anyone), as for users and settings.
 */
@Controller('admin/api/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Roles('admin', 'viewer')
  @Get('event-types')
  eventTypes(): NotificationEventTypeListResponseDto {
    return { items: notificationEventTypes() };
  }

  @Roles('admin', 'viewer')
  @Get('targets')
  async listTargets(): Promise<NotificationTargetListResponseDto> {
    return { items: await this.notifications.listTargets() };
  }

  @Roles('admin')
  @Post('targets')
  createTarget(@Body() body: CreateNotificationTargetDto): Promise<NotificationTargetResponseDto> {
    return this.notifications.createTarget(body);
  }

  @Roles('admin', 'viewer')
  @Get('targets/:id')
  getTarget(@Param('id') id: string): Promise<NotificationTargetResponseDto> {
    return this.notifications.getTarget(id);
  }

  @Roles('admin')
  @Patch('targets/:id')
  updateTarget(
    @Param('id') id: string,
    @Body() body: UpdateNotificationTargetDto,
  ): Promise<NotificationTargetResponseDto> {
    return this.notifications.updateTarget(id, body);
  }

  @Roles('admin')
  @Delete('targets/:id')
  @HttpCode(204)
  deleteTarget(@Param('id') id: string): Promise<void> {
    return this.notifications.deleteTarget(id);
  }

  /** Sends a `notification.test` message now; 200 with ok: false when the target refuses it. */
  @Roles('admin')
  @Post('targets/:id/test')
  @HttpCode(200)
  testTarget(@Param('id') id: string): Promise<NotificationTestResponseDto> {
    return this.notifications.testTarget(id);
  }

  /** The delivery log, newest first. */
  @Roles('admin', 'viewer')
  @Get('deliveries')
  listDeliveries(
    @Query() query: ListDeliveriesQueryDto,
  ): Promise<NotificationDeliveryListResponseDto> {
    return this.notifications.listDeliveries(query);
  }

  /** Queues a delivery that gave up again, due at once. */
  @Roles('admin')
  @Post('deliveries/:id/retry')
  @HttpCode(200)
  @AuditRoute({ targetType: 'notifications.deliveries' })
  retryDelivery(@Param('id') id: string): Promise<NotificationDeliveryResponseDto> {
    return this.notifications.retryDelivery(id);
  }
}
