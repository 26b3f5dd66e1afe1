import { Module } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { ADMIN_UI_DIST, loadAdminUiBundle, type AdminUiBundle } from './admin-ui-bundle';
import { ADMIN_UI_BUNDLE, AdminUiController } from './admin-ui.controller';

@Module({
  controllers: [AdminUiController],
  providers: [
    {
      provide: ADMIN_UI_BUNDLE,
      useFactory: (): AdminUiBundle => {
        const bundle = loadAdminUiBundle();
        if (!bundle.built) {
          appLogger.warn(
            { dist: ADMIN_UI_DIST },
            'admin UI not built: /admin says so; run npm run build',
          );
        }
        return bundle;
      },
    },
  ],
})
export class AdminUiModule {}
