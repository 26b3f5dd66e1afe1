import { All, Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeyAuth } from 'src/common/auth/route-access.decorator';
import { checkAccess } from 'src/modules/api-keys/api-key-policy';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { AnthropicDialect } from './dialects/anthropic.dialect';
import { ModelCatalog } from './model-catalog.service';
import { AnthropicProvider } from './providers/anthropic.provider';
import { RelayException, RelayExceptionCode } from './relay.exception';
import { RelayService, type RelayCall } from './relay.service';

const dialect = new AnthropicDialect();
const provider = new AnthropicProvider();
const MESSAGES: RelayCall = { dialect, provider, path: '/v1/messages', metered: true };
const COUNT_TOKENS: RelayCall = {
  dialect,
  provider,
  path: '/v1/messages/count_tokens',
  metered: false,
};
const MESSAGES_PATHS = ['v1/messages', 'api/v1/messages', 'claude/v1/messages'];
const COUNT_TOKENS_PATHS = [
  'v1/messages/count_tokens',
  'api/v1/messages/count_tokens',
  'claude/v1/messages/count_tokens',
];

/** This controller's POST relay routes, also served by RelayFastPath ahead of Express. */
export const ANTHROPIC_RELAY_ROUTES: readonly { paths: readonly string[]; call: RelayCall }[] = [
  { paths: MESSAGES_PATHS, call: MESSAGES },
  { paths: COUNT_TOKENS_PATHS, call: COUNT_TOKENS },
];

/**
 * Anthropic Messages API, also under /api and /claude so existing relay client configs work.
 * Handlers take the raw response: the relay streams bytes itself, outside Nest's serialisation.
 */
@Controller()
export class AnthropicRelayController {
  constructor(
    private readonly relay: RelayService,
    private readonly catalog: ModelCatalog,
  ) {}

  @ApiKeyAuth()
  @Post(MESSAGES_PATHS)
  messages(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(MESSAGES, req, res);
  }

  @ApiKeyAuth()
  @Post(COUNT_TOKENS_PATHS)
  countTokens(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(COUNT_TOKENS, req, res);
  }

  /**
   * Any other method on the POST routes: answered in the dialect's shape (after the POST
   * handlers, which Nest matches first), so an SDK or curl user reads a relay error, not the
   * admin API's.
   */
  @ApiKeyAuth()
  @All([...MESSAGES_PATHS, ...COUNT_TOKENS_PATHS])
  methodNotAllowed(@Req() req: Request, @Res() res: Response): void {
    res.setHeader('allow', 'POST');
    this.relay.writeError(
      dialect,
      res,
      new RelayException(
        RelayExceptionCode.METHOD_NOT_ALLOWED,
        `${req.method} is not supported on ${req.path}; use POST`,
      ),
    );
  }

  @ApiKeyAuth()
  @Get(['v1/models', 'api/v1/models', 'claude/v1/models'])
  async models(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const policy = await this.relay.authenticate(dialect, req);
      const denied = checkAccess(policy, { platform: dialect.platform });
      if (denied !== null) throw ApiKeyException.fromRejection(denied);
      res.json(this.catalog.anthropicModels(policy));
    } catch (error) {
      this.relay.writeError(dialect, res, error);
    }
  }
}
