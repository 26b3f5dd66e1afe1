import { Module } from '@nestjs/common';
import { KeySpendModule } from 'src/modules/usage/key-spend.module';
import { AdmissionService } from './admission.service';
import { BudgetReconciler } from './budget-reconciler';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeysAuditLoader } from './api-keys-audit.loader';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';

/**
 * Switchyard API keys: admin CRUD, the hot-path authenticator (in-process cache invalidated over
 * the coordinator) and admission (window limits, concurrency leases, budget reservations).
 * Needs the global Config, Database, Coordination and Crypto modules.
 */
@Module({
  // KeySpendReader: budgets lost by the coordinator are seeded from the usage record.
  imports: [KeySpendModule],
  controllers: [ApiKeysController],
  providers: [
    ApiKeysRepository,
    ApiKeysService,
    ApiKeyAuthenticator,
    AdmissionService,
    BudgetReconciler,
    ApiKeysAuditLoader,
  ],
  exports: [ApiKeysService, ApiKeyAuthenticator, AdmissionService],
})
export class ApiKeysModule {}
