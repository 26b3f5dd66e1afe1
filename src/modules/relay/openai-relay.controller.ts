import { All, Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeyAuth } from 'src/common/auth/route-access.decorator';
import { ModelCatalog } from './model-catalog.service';
import { OPENAI_CHAT_DIALECT, RELAY_ROUTES } from './relay.routes';
import type { RelayRoute } from './relay.routes';
import { RelayException, RelayExceptionCode } from './relay.exception';
import { RelayService } from './relay.service';

const { openaiChat, openaiResponses } = RELAY_ROUTES;

/**
 * OpenAI Chat Completions and Responses at /openai/v1 (and /v1): any model a route or an account
 * serves, in OpenAI's wire formats; a request goes to the account as it is when the account
 * speaks its format, else converted (to Anthropic Messages for Claude accounts) and back.
 */
@Controller()
export class OpenAIRelayController {
  constructor(
    private readonly relay: RelayService,
    private readonly catalog: ModelCatalog,
  ) {}

  @ApiKeyAuth()
  @Post([...openaiChat.paths])
  chatCompletions(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(openaiChat, req, res);
  }

  @ApiKeyAuth()
  @Post([...openaiResponses.paths])
  responses(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(openaiResponses, req, res);
  }

  @ApiKeyAuth()
  @All([...openaiChat.paths, ...openaiResponses.paths])
  methodNotAllowed(@Req() req: Request, @Res() res: Response): void {
    const route: RelayRoute = openaiChat.paths.some((p) => req.path.includes(p))
      ? openaiChat
      : openaiResponses;
    res.setHeader('allow', 'POST');
    this.relay.writeError(
      route.dialect,
      res,
      new RelayException(
        RelayExceptionCode.METHOD_NOT_ALLOWED,
        `${req.method} is not supported on ${req.path}; use POST`,
      ),
    );
  }

  /** Every model this key may use, in OpenAI's list shape. */
  @ApiKeyAuth()
  @Get('openai/v1/models')
  async models(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const policy = await this.relay.authenticate(OPENAI_CHAT_DIALECT, req);
      res.json(this.catalog.openAIModels(policy, req.headers['user-agent']));
    } catch (error) {
      this.relay.writeError(OPENAI_CHAT_DIALECT, res, error);
    }
  }
}
