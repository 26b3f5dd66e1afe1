import { All, Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeyAuth } from 'src/common/auth/route-access.decorator';
import { checkAccess } from 'src/modules/api-keys/api-key-policy';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { CODE_ASSIST_DIALECTS, RELAY_ROUTES } from './relay.routes';
import type { RelayRoute } from './relay.routes';
import { RelayException, RelayExceptionCode } from './relay.exception';
import { RelayService } from './relay.service';

const { codeAssistGenerate, codeAssistStream, codeAssistCountTokens } = RELAY_ROUTES;

/** Express reads `:name` as a parameter; Code Assist's `v1internal:method` paths need it escaped. */
function expressPaths(route: RelayRoute): string[] {
  return route.paths.map((path) => path.replace(/:/g, '\\:'));
}

/**
 * The project Switchyard names to Gemini CLI: the CLI sends it back in every request, and the
 * relay replaces it with the project of the account that serves the request.
 */
export const SWITCHYARD_CODE_ASSIST_PROJECT = 'switchyard';

const TIER = {
  id: 'standard-tier',
  name: 'Gemini Code Assist through Switchyard',
  description: 'Requests are served by the accounts of this Switchyard relay.',
  userDefinedCloudaicompanionProject: false,
};

/**
 * The methods Gemini CLI calls besides generating (setup.ts, server.ts, experiments, admin
 * controls, telemetry), answered here with the least that lets a session start: an onboarded
 * standard tier on Switchyard's own project, no experiments, no admin controls, no quota
 * buckets; metrics are accepted and dropped. No account is involved.
 */
const LOCAL_ANSWERS: Record<string, (body: unknown) => unknown> = {
  loadCodeAssist: () => ({
    currentTier: TIER,
    allowedTiers: [{ ...TIER, isDefault: true }],
    cloudaicompanionProject: SWITCHYARD_CODE_ASSIST_PROJECT,
    gcpManaged: false,
  }),
  onboardUser: () => onboarded(),
  listExperiments: () => ({ experimentIds: [], flags: [] }),
  retrieveUserQuota: () => ({ buckets: [] }),
  fetchAdminControls: () => ({ adminControlsApplicable: false }),
  getCodeAssistGlobalUserSetting: () => globalSetting(),
  setCodeAssistGlobalUserSetting: (body) => ({
    ...globalSetting(),
    ...(typeof body === 'object' && body !== null ? body : {}),
  }),
  recordCodeAssistMetrics: () => ({}),
};

function onboarded(): Record<string, unknown> {
  return {
    name: 'operations/switchyard-onboarded',
    done: true,
    response: {
      cloudaicompanionProject: {
        id: SWITCHYARD_CODE_ASSIST_PROJECT,
        name: SWITCHYARD_CODE_ASSIST_PROJECT,
      },
    },
  };
}

function globalSetting(): Record<string, unknown> {
  return {
    cloudaicompanionProject: SWITCHYARD_CODE_ASSIST_PROJECT,
    freeTierDataCollectionOptin: false,
  };
}

/**
 * Code Assist for Gemini CLI's Google-login mode, at `/gemini/v1internal:{method}`
 * (`CODE_ASSIST_ENDPOINT=<switchyard>/gemini`): generateContent, streamGenerateContent and
 * countTokens go through the relay to the accounts (normally answered by RelayFastPath before
 * Express; these handlers serve the spellings it leaves to Express); the session's other calls
 * are answered locally once the key is checked.
 */
@Controller()
export class CodeAssistRelayController {
  constructor(private readonly relay: RelayService) {}

  @ApiKeyAuth()
  @Post(expressPaths(codeAssistGenerate))
  generateContent(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(codeAssistGenerate, req, res);
  }

  @ApiKeyAuth()
  @Post(expressPaths(codeAssistStream))
  streamGenerateContent(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(codeAssistStream, req, res);
  }

  @ApiKeyAuth()
  @Post(expressPaths(codeAssistCountTokens))
  countTokens(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.relay.relay(codeAssistCountTokens, req, res);
  }

  /** A long-running operation (onboardUser's): always already done. */
  @ApiKeyAuth()
  @Get('gemini/v1internal/*name')
  async operation(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.answer(req, res, () => onboarded());
  }

  @ApiKeyAuth()
  @All('gemini/v1internal\\::method')
  async local(@Req() req: Request, @Res() res: Response): Promise<void> {
    const method = req.path.slice(req.path.lastIndexOf(':') + 1);
    const answer = Object.hasOwn(LOCAL_ANSWERS, method) ? LOCAL_ANSWERS[method] : undefined;
    await this.answer(req, res, answer);
  }

  private async answer(
    req: Request,
    res: Response,
    answer: ((body: unknown) => unknown) | undefined,
  ): Promise<void> {
    const dialect = CODE_ASSIST_DIALECTS.generate;
    try {
      const policy = await this.relay.authenticate(dialect, req);
      // The client rule too: a key limited to Gemini CLI must pass its session setup.
      const denied = checkAccess(policy, {
        platform: 'gemini',
        userAgent: req.headers['user-agent'],
      });
      if (denied !== null) throw ApiKeyException.fromRejection(denied);
      if (answer === undefined) {
        throw new RelayException(
          RelayExceptionCode.UNKNOWN_METHOD,
          `${req.method} ${req.path} is not a Code Assist method Switchyard serves`,
        );
      }
      res.json(answer(await jsonBody(req)));
    } catch (error) {
      this.relay.writeError(dialect, res, error);
    }
  }
}

/** A small JSON body of a local method (the relay module parses no bodies globally). */
async function jsonBody(req: Request): Promise<unknown> {
  if (req.method !== 'POST') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1024 * 1024) {
      throw new RelayException(RelayExceptionCode.INVALID_REQUEST, 'request body too large');
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
