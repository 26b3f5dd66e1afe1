import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { AuditRecorder } from './audit-recorder.service';
import { AuditRetentionService } from './audit-retention.service';
import { AUDIT_TARGET_LOADERS } from './audit-target-loader.port';
import { AuditTargets } from './audit-targets';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/**
 * The audit trail: the interceptor that records every admin-API mutation, the recorder the auth
 * service and the CLI write through (AuditRecorder), the query and CSV export, and retention.
 * Features contribute before/after snapshots with `@AuditTargetLoaderProvider()` loaders, found
 * here at start. Needs the global Config, Database, Coordination and Metrics modules (and the
 * ScheduleModule for retention).
 */
@Module({
  imports: [DiscoveryModule],
  controllers: [AuditController],
  providers: [
    AuditRepository,
    AuditRecorder,
    AuditService,
    AuditRetentionService,
    AuditTargets,
    { provide: AUDIT_TARGET_LOADERS, useExisting: AuditTargets },
    { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
  ],
  exports: [AuditRecorder, AUDIT_TARGET_LOADERS],
})
export class AuditModule {}
