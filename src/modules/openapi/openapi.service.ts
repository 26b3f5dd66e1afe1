import { Injectable, type INestApplication } from '@nestjs/common';
import { buildOpenApiDocument, serializeOpenApi } from './openapi-document';
import { OpenApiException, OpenApiExceptionCode } from './openapi.exception';

/**
 * Holds the admin API's OpenAPI document. The document is read off the running application's
 * controllers, so bootstrap hands the application over once it exists; the document is built on
 * first use (not at boot: most instances never serve it) and kept, since routes never change at
 * run time.
 */
@Injectable()
export class OpenApiService {
  private app: INestApplication | undefined;
  private json: string | undefined;

  useApplication(app: INestApplication): void {
    this.app = app;
    this.json = undefined;
  }

  /** The document in its one serialisation (sorted keys, two-space indent, final newline). */
  document(): string {
    if (this.json === undefined) {
      if (this.app === undefined) {
        throw new OpenApiException(
          OpenApiExceptionCode.NOT_READY,
          'the OpenAPI document is not available: the application was not handed over',
        );
      }
      this.json = serializeOpenApi(buildOpenApiDocument(this.app));
    }
    return this.json;
  }
}
