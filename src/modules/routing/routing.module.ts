import { Module } from '@nestjs/common';
import { ModelRouter } from './model-router.service';
import { ModelRoutesController } from './model-routes.controller';
import { ModelRoutesRepository } from './model-routes.repository';
import { ModelRoutesService } from './model-routes.service';

/**
 * Routing: which platform serves a requested model (model routes: exact names, `*` patterns,
 * aliases), editable through the admin API and applied live on every instance. ModelRouter is
 * what the relay asks, in memory. Needs the global Database and Coordination modules.
 */
@Module({
  controllers: [ModelRoutesController],
  providers: [ModelRoutesRepository, ModelRouter, ModelRoutesService],
  exports: [ModelRouter],
})
export class RoutingModule {}
