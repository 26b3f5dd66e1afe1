import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from 'src/common/auth/route-access.decorator';
import { adminPageHeaders } from 'src/modules/admin-ui/admin-page-headers';
import { DOCS_ASSETS, DOCS_PAGE } from './openapi-docs-page';
import { OpenApiException, OpenApiExceptionCode } from './openapi.exception';
import { OpenApiService } from './openapi.service';

/**
 * The admin API's description and a page to browse it. Public: they describe the API, they expose
 * no data (every route they list still asks for its session).
 */
@ApiExcludeController()
@Public()
@Controller('admin/api')
export class OpenApiController {
  private readonly pageHeaders = adminPageHeaders(DOCS_PAGE);

  constructor(private readonly openApi: OpenApiService) {}

  @Get('openapi.json')
  @Header('content-type', 'application/json; charset=utf-8')
  @Header('cache-control', 'no-cache')
  document(): string {
    return this.openApi.document();
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  page(@Res({ passthrough: true }) res: Response): string {
    res.set(this.pageHeaders);
    return DOCS_PAGE;
  }

  @Get('docs/assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const asset = Object.hasOwn(DOCS_ASSETS, file) ? DOCS_ASSETS[file] : undefined;
    if (asset === undefined) {
      throw new OpenApiException(OpenApiExceptionCode.ASSET_NOT_FOUND, `no docs asset ${file}`);
    }
    res.set({ 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    if ('text' in asset) {
      res.type(asset.type).send(asset.text);
    } else {
      res.sendFile(asset.file);
    }
  }
}
