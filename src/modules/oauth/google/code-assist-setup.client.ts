import { Inject, Injectable, Optional } from '@nestjs/common';
import { ProxyAgent, request, Socks5ProxyAgent, type Dispatcher } from 'undici';
import { HttpTrafficLogger, type TrafficTarget } from 'src/infra/http/http-traffic-logger';
import { ACCOUNT_DISPATCHER_FACTORY, type AccountDispatcherFactory } from '../account-dispatcher';

export interface CodeAssistSetupOptions {
  /** Between two polls of a running onboarding (Gemini CLI waits 5 s). */
  pollIntervalMs: number;
  /** Polls before giving up on an onboarding that never finishes. */
  maxPolls: number;
  requestTimeoutMs: number;
}

export const CODE_ASSIST_SETUP_OPTIONS = Symbol('CODE_ASSIST_SETUP_OPTIONS');

const DEFAULTS: CodeAssistSetupOptions = {
  pollIntervalMs: 5_000,
  maxPolls: 24,
  requestTimeoutMs: 30_000,
};

/** The client metadata Gemini CLI's setupUser sends. */
const CLIENT_METADATA = {
  ideType: 'IDE_UNSPECIFIED',
  platform: 'PLATFORM_UNSPECIFIED',
  pluginType: 'GEMINI',
} as const;

const FREE_TIER = 'free-tier';
const LEGACY_TIER = 'legacy-tier';

interface Tier {
  id?: string;
  name?: string;
  isDefault?: boolean;
}

interface LoadCodeAssistResponse {
  currentTier?: Tier | null;
  allowedTiers?: Tier[] | null;
  ineligibleTiers?: { reasonMessage?: string }[] | null;
  cloudaicompanionProject?: string | null;
  paidTier?: Tier | null;
}

interface Operation {
  name?: string;
  done?: boolean;
  response?: { cloudaicompanionProject?: { id?: string; name?: string } };
  error?: { message?: string };
}

export type CodeAssistSetupResult =
  | { ok: true; projectId: string; tierId: string; tierName: string | null; onboarded: boolean }
  | {
      ok: false;
      /** refused: Code Assist said no (the account needs a project, or is ineligible). */
      reason: 'refused' | 'unavailable';
      detail: string;
      status?: number;
    };

class SetupError extends Error {
  constructor(
    readonly reason: 'refused' | 'unavailable',
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Finds or onboards the Code Assist project of a Google account exactly as Gemini CLI's
 * `setupUser` does (packages/core/src/code_assist/setup.ts): `loadCodeAssist`; with a current
 * tier, its `cloudaicompanionProject` (else the project the admin named); without one,
 * `onboardUser` with the default allowed tier (the free tier names no project: Google manages
 * it) and the long-running operation polled (`GET /v1internal/{name}`) until done.
 */
@Injectable()
export class CodeAssistSetupClient {
  private readonly options: CodeAssistSetupOptions;

  constructor(
    @Optional()
    @Inject(ACCOUNT_DISPATCHER_FACTORY)
    private readonly dispatcherFactory?: AccountDispatcherFactory,
    @Optional() @Inject(CODE_ASSIST_SETUP_OPTIONS) options?: Partial<CodeAssistSetupOptions>,
    @Optional() private readonly traffic?: HttpTrafficLogger,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async setUp(input: {
    baseUrl: string;
    accessToken: string;
    /** The project the admin names (Gemini CLI's GOOGLE_CLOUD_PROJECT), if any. */
    projectId?: string;
    proxyUrl: string | null;
    /** The account a login replaces the credentials of (DEBUG_HTTP_TRAFFIC), else null. */
    accountId?: string | null;
  }): Promise<CodeAssistSetupResult> {
    let temporary: Dispatcher | undefined;
    let dispatcher: Dispatcher | undefined;
    if (input.proxyUrl !== null) {
      dispatcher = this.dispatcherFactory?.(input.proxyUrl);
      if (dispatcher === undefined) {
        dispatcher = temporary =
          new URL(input.proxyUrl).protocol === 'socks5:'
            ? new Socks5ProxyAgent(input.proxyUrl)
            : new ProxyAgent({ uri: input.proxyUrl, proxyTunnel: true });
      }
    }
    try {
      return await this.run(input, dispatcher);
    } catch (error) {
      if (error instanceof SetupError) {
        return {
          ok: false,
          reason: error.reason,
          detail: error.message,
          ...(error.status !== undefined ? { status: error.status } : {}),
        };
      }
      const code = (error as { code?: unknown }).code;
      return {
        ok: false,
        reason: 'unavailable',
        detail: `Code Assist unreachable (${typeof code === 'string' ? code : 'network error'})`,
      };
    } finally {
      await temporary?.close().catch(() => undefined);
    }
  }

  private async run(
    input: { baseUrl: string; accessToken: string; projectId?: string; accountId?: string | null },
    dispatcher: Dispatcher | undefined,
  ): Promise<CodeAssistSetupResult> {
    const target: TrafficTarget = { keyId: null, accountId: input.accountId ?? null };
    const call = <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
      this.call<T>(
        `${input.baseUrl}/v1internal${path}`,
        input.accessToken,
        dispatcher,
        method,
        body,
        target,
      );
    const projectId = input.projectId;
    const load = await call<LoadCodeAssistResponse>('POST', ':loadCodeAssist', {
      cloudaicompanionProject: projectId,
      metadata: { ...CLIENT_METADATA, duetProject: projectId },
    });
    if (load.currentTier) {
      const tierId = load.paidTier?.id ?? load.currentTier.id ?? 'standard-tier';
      const tierName = load.paidTier?.name ?? load.currentTier.name ?? null;
      const project = load.cloudaicompanionProject ?? projectId;
      if (!project) throw this.noProject(load);
      return { ok: true, projectId: project, tierId, tierName, onboarded: false };
    }
    const tier: Tier = load.allowedTiers?.find((t) => t.isDefault === true) ?? {
      id: LEGACY_TIER,
      name: '',
    };
    const tierId = tier.id ?? 'standard-tier';
    // The free tier uses a managed project: naming one fails with "Precondition Failed".
    const request =
      tierId === FREE_TIER
        ? { tierId, cloudaicompanionProject: undefined, metadata: CLIENT_METADATA }
        : {
            tierId,
            cloudaicompanionProject: projectId,
            metadata: { ...CLIENT_METADATA, duetProject: projectId },
          };
    let operation = await call<Operation>('POST', ':onboardUser', request);
    for (let polls = 0; operation.done !== true; polls++) {
      if (operation.name === undefined || polls >= this.options.maxPolls) {
        throw new SetupError('unavailable', 'Code Assist onboarding did not finish; try again');
      }
      await sleep(this.options.pollIntervalMs);
      operation = await call<Operation>('GET', `/${operation.name}`);
    }
    if (operation.error?.message !== undefined) {
      throw new SetupError(
        'refused',
        `onboarding failed: ${operation.error.message.slice(0, 200)}`,
      );
    }
    const project = operation.response?.cloudaicompanionProject?.id ?? projectId;
    if (!project) throw this.noProject(load);
    return { ok: true, projectId: project, tierId, tierName: tier.name ?? null, onboarded: true };
  }

  private noProject(load: LoadCodeAssistResponse): SetupError {
    const reasons = (load.ineligibleTiers ?? [])
      .map((t) => t.reasonMessage)
      .filter((m): m is string => typeof m === 'string');
    return new SetupError(
      'refused',
      reasons.length > 0
        ? `this Google account cannot use Code Assist: ${reasons.join(', ').slice(0, 300)}`
        : 'this Google account needs a Google Cloud project for Code Assist: give its projectId',
    );
  }

  private async call<T>(
    url: string,
    accessToken: string,
    dispatcher: Dispatcher | undefined,
    method: 'GET' | 'POST',
    body: unknown,
    target: TrafficTarget,
  ): Promise<T> {
    const sent = {
      method,
      url,
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    };
    const traced =
      this.traffic?.enabled === true ? this.traffic.begin(target, sent, [accessToken]) : null;
    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await request(url, {
        method,
        headers: sent.headers,
        ...(sent.body !== undefined ? { body: sent.body } : {}),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        ...(dispatcher !== undefined ? { dispatcher } : {}),
      });
      text = await response.body.text();
    } catch (error) {
      traced?.failed(error);
      throw error;
    }
    traced?.completed(response.statusCode, response.headers, Buffer.from(text));
    const status = response.statusCode;
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (status >= 200 && status < 300 && typeof parsed === 'object' && parsed !== null) {
      return parsed as T;
    }
    const message = (parsed as { error?: { message?: unknown } } | null)?.error?.message;
    const detail = `Code Assist answered ${status}${
      typeof message === 'string' ? `: ${message.slice(0, 200)}` : ''
    }`;
    const refused = status >= 400 && status < 500 && status !== 429 && status !== 408;
    throw new SetupError(refused ? 'refused' : 'unavailable', detail, status);
  }
}
