import 'reflect-metadata';
import { ConfigValidationError } from './config/config.loader';
import { appLogger } from './common/logging/app-logger';
import { installSignalHandlers, startServer } from './bootstrap';

startServer()
  .then(installSignalHandlers)
  .catch((error: unknown) => {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\nSee docs/configuration.md for every variable.\n`);
    } else {
      appLogger.fatal({ err: error }, 'switchyard failed to start');
    }
    process.exit(1);
  });
