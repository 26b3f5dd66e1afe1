import { Module } from '@nestjs/common';
import { isPlatform } from './model-route.mapper';
import { AccountGroupsService } from 'src/modules/accounts/account-groups.service';
import { AccountsModule } from 'src/modules/accounts/accounts.module';
import { ApiKeyAdminCode, ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { ApiKeysModule } from 'src/modules/api-keys/api-keys.module';
import { ApiKeysService } from 'src/modules/api-keys/api-keys.service';
import { ModelRoutesAuditLoader } from './model-routes-audit.loader';
import { ModelRouter } from './model-router.service';
import { ModelRoutesController } from './model-routes.controller';
import { ModelRoutesRepository } from './model-routes.repository';
import { ModelRoutesService } from './model-routes.service';
import { KeyRoutingRulesController, RoutingRulesController } from './routing-rules.controller';
import { RoutingRulesAuditLoader } from './routing-rules-audit.loader';
import { RoutingRulesRepository } from './routing-rules.repository';
import {
  ROUTING_KEY_LOOKUP,
  RoutingRulesService,
  type RoutingKeyLookup,
} from './routing-rules.service';
import { ROUTING_GROUP_SOURCE, RuleRouter, type RoutingGroupSource } from './rule-router.service';

/**
 * Routing: which platform serves a requested model (model routes: exact names, `*` patterns,
 * aliases) and which model a request is served as (routing rules: per key or global, by scenario
 * or model, and `provider,model` overrides), editable through the admin API and applied live on
 * every instance. ModelRouter and RuleRouter are what the relay asks, in memory. Needs the
 * global Database and Coordination modules.
 */
@Module({
  imports: [AccountsModule, ApiKeysModule],
  controllers: [ModelRoutesController, RoutingRulesController, KeyRoutingRulesController],
  providers: [
    ModelRoutesRepository,
    ModelRouter,
    ModelRoutesService,
    RoutingRulesRepository,
    RuleRouter,
    RoutingRulesService,
    ModelRoutesAuditLoader,
    RoutingRulesAuditLoader,
    {
      provide: ROUTING_GROUP_SOURCE,
      useFactory: (groups: AccountGroupsService): RoutingGroupSource => ({
        async listGroups() {
          const all = await groups.list();
          return all.flatMap((g) =>
            isPlatform(g.platform) ? [{ id: g.id, name: g.name, platform: g.platform }] : [],
          );
        },
      }),
      inject: [AccountGroupsService],
    },
    {
      provide: ROUTING_KEY_LOOKUP,
      useFactory: (keys: ApiKeysService): RoutingKeyLookup => ({
        exists: (id) =>
          keys.get(id).then(
            () => true,
            (error: unknown) => {
              if (error instanceof ApiKeyException && error.code === ApiKeyAdminCode.KEY_NOT_FOUND)
                return false;
              throw error;
            },
          ),
      }),
      inject: [ApiKeysService],
    },
  ],
  exports: [ModelRouter, RuleRouter],
})
export class RoutingModule {}
