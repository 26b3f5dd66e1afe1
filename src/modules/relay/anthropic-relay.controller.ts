import { All, Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeyAuth } from 'src/common/auth/route-access.decorator';
import { checkAccess } from 'src/modules/api-keys/api-key-policy';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { ModelCatalog } from './model-catalog.service';
import { ANTHROPIC_DIALECT, OPENAI_CHAT_DIALECT, RELAY_ROUTES } from './relay.routes';
import { RelayException, RelayExceptionCode } from './relay.exception';
import { RelayService } from './relay.service';

const { anthropicMessages, anthropicCountTokens } = RELAY_ROUTES;

/** Anthropic clients name their API version; OpenAI clients never send this header. */
function isAnthropicClient(req: Request): boolean {
  return req.headers['anthropic-version'] !== undefined || req.headers['x-api-key'] !== undefined;
}

/**
 * Anthropic Messages API, also under /api and /claude so existing relay client configs work.
 * Handlers take the raw response: the relay streams bytes itself, outside Nest's serialisation.
 * The POST routes are normally answered by RelayFastPath before Express; these handlers serve
 * the spellings it leaves to Express (a trailing slash, other letter case).
 */
@Controller()
export class AnthropicRelayController {
  constructor(
    private readonly relay: RelayService,
    private readonly catalog: ModelCatalog,
  ) {}

  @ApiKeyAuth()
  @Post([...anthropicMessages.paths])
  messages(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(anthropicMessages, req, res);
  }

  @ApiKeyAuth()
  @Post([...anthropicCountTokens.paths])
  countTokens(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(anthropicCountTokens, req, res);
  }

  /**
   * Any other method on the POST routes: answered in the dialect's shape (after the POST
   * handlers, which Nest matches first), so an SDK or curl user reads a relay error, not the
   * admin API's.
   */
  @ApiKeyAuth()
  @All([...anthropicMessages.paths, ...anthropicCountTokens.paths])
  methodNotAllowed(@Req() req: Request, @Res() res: Response): void {
    res.setHeader('allow', 'POST');
    this.relay.writeError(
      ANTHROPIC_DIALECT,
      res,
      new RelayException(
        RelayExceptionCode.METHOD_NOT_ALLOWED,
        `${req.method} is not supported on ${req.path}; use POST`,
      ),
    );
  }

  /**
   * The Claude models this key may use, in Anthropic's shape; `/v1/models` is shared with
   * OpenAI clients, which get OpenAI's list shape (they send no `anthropic-version`).
   */
  @ApiKeyAuth()
  @Get(['v1/models', 'api/v1/models', 'claude/v1/models'])
  async models(@Req() req: Request, @Res() res: Response): Promise<void> {
    const openAI = req.path === '/v1/models' && !isAnthropicClient(req);
    const userAgent = req.headers['user-agent'];
    const dialect = openAI ? OPENAI_CHAT_DIALECT : ANTHROPIC_DIALECT;
    try {
      const policy = await this.relay.authenticate(dialect, req);
      if (openAI) {
        res.json(this.catalog.openAIModels(policy, userAgent));
        return;
      }
      const denied = checkAccess(policy, { platform: 'claude', userAgent });
      if (denied !== null) throw ApiKeyException.fromRejection(denied);
      res.json(this.catalog.anthropicModels(policy, userAgent));
    } catch (error) {
      this.relay.writeError(dialect, res, error);
    }
  }
}
