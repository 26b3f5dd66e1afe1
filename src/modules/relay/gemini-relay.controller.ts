import { All, Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeyAuth } from 'src/common/auth/route-access.decorator';
import { checkAccess } from 'src/modules/api-keys/api-key-policy';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { ModelCatalog } from './model-catalog.service';
import { GEMINI_DIALECT, GEMINI_MODEL_LIST_PATHS, RELAY_ROUTES } from './relay.routes';
import { RelayException, RelayExceptionCode } from './relay.exception';
import { RelayService } from './relay.service';

const { geminiGenerateContent, geminiStreamGenerateContent, geminiCountTokens } = RELAY_ROUTES;

/**
 * The Gemini API at /gemini/v1beta (and /v1beta, /gemini/v1): `models/{model}:generateContent`,
 * `:streamGenerateContent` (`?alt=sse` for server-sent events, else Google's streamed JSON
 * array), `:countTokens`, and the model list. The POST routes are normally answered by
 * RelayFastPath before Express; these handlers serve the spellings it leaves to Express.
 */
@Controller()
export class GeminiRelayController {
  constructor(
    private readonly relay: RelayService,
    private readonly catalog: ModelCatalog,
  ) {}

  @ApiKeyAuth()
  @Post([...geminiGenerateContent.paths])
  generateContent(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(geminiGenerateContent, req, res);
  }

  @ApiKeyAuth()
  @Post([...geminiStreamGenerateContent.paths])
  streamGenerateContent(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(geminiStreamGenerateContent, req, res);
  }

  @ApiKeyAuth()
  @Post([...geminiCountTokens.paths])
  countTokens(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(geminiCountTokens, req, res);
  }

  /** The Gemini models this key may use, in Google's `{"models":[{"name":"models/…"}]}` shape. */
  @ApiKeyAuth()
  @Get([...GEMINI_MODEL_LIST_PATHS])
  async models(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const policy = await this.relay.authenticate(GEMINI_DIALECT, req);
      const userAgent = req.headers['user-agent'];
      const denied = checkAccess(policy, { platform: 'gemini', userAgent });
      if (denied !== null) throw ApiKeyException.fromRejection(denied);
      res.json(this.catalog.geminiModels(policy, userAgent));
    } catch (error) {
      this.relay.writeError(GEMINI_DIALECT, res, error);
    }
  }

  /** One model of the list, or NOT_FOUND. */
  @ApiKeyAuth()
  @Get(GEMINI_MODEL_LIST_PATHS.map((path) => `${path}/:model`))
  async model(
    @Req() req: Request,
    @Res() res: Response,
    @Param('model') model: string,
  ): Promise<void> {
    try {
      const policy = await this.relay.authenticate(GEMINI_DIALECT, req);
      const userAgent = req.headers['user-agent'];
      const denied = checkAccess(policy, { platform: 'gemini', userAgent });
      if (denied !== null) throw ApiKeyException.fromRejection(denied);
      const found = this.catalog
        .geminiModels(policy, userAgent)
        .models.find((m) => m.name === `models/${model}`);
      if (found === undefined)
        throw new RelayException(
          RelayExceptionCode.UNKNOWN_MODEL,
          `models/${model} is not found for this key`,
          null,
          'model',
        );
      res.json(found);
    } catch (error) {
      this.relay.writeError(GEMINI_DIALECT, res, error);
    }
  }

  /** Any other method on the POST routes, answered in Google's shape. */
  @ApiKeyAuth()
  @All([
    ...geminiGenerateContent.paths,
    ...geminiStreamGenerateContent.paths,
    ...geminiCountTokens.paths,
  ])
  methodNotAllowed(@Req() req: Request, @Res() res: Response): void {
    res.setHeader('allow', 'POST');
    this.relay.writeError(
      GEMINI_DIALECT,
      res,
      new RelayException(
        RelayExceptionCode.METHOD_NOT_ALLOWED,
        `${req.method} is not supported on ${req.path}; use POST`,
      ),
    );
  }
}
