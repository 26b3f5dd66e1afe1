import type { ServerResponse } from 'node:http';
import type { GoogleTokenAuthority } from './fake-google-auth';

/**
 * Google's Code Assist API (`cloudcode-pa.googleapis.com/v1internal:{method}`), the upstream of
 * `gemini-oauth` accounts, as Gemini CLI's code_assist/server.ts, setup.ts and converter.ts
 * speak it:
 * - `:loadCodeAssist` `{cloudaicompanionProject?, metadata}` → with a current tier
 *   `{currentTier, allowedTiers, cloudaicompanionProject}`, else `{allowedTiers}` (one default).
 * - `:onboardUser` `{tierId, cloudaicompanionProject?, metadata}` → a long-running operation
 *   `{name, done: false}`, polled with `GET /v1internal/{name}` until
 *   `{done: true, response: {cloudaicompanionProject: {id, name}}}`.
 * - `:generateContent` / `:streamGenerateContent?alt=sse` `{model, project, user_prompt_id,
 *   request: {contents, systemInstruction, tools, generationConfig, …}}` →
 *   `{response: GenerateContentResponse, traceId}` (each SSE event is one of those).
 * - `:countTokens` `{request: {model: "models/…", contents}}` → `{totalTokens}`.
 * Errors are google.rpc.Status: `{"error":{"code","message","status","details"}}`.
 * Faults are driven by the bearer token: `forToken` scripts answers, and with `useAuth` only
 * live tokens of the fake Google OAuth server pass (401 UNAUTHENTICATED otherwise).
 */

export const CODE_ASSIST_REPLY_TEXT = 'Hello from the fake Code Assist.';

export interface FakeCodeAssistFault {
  status: number;
  /** 429: the RetryInfo `retryDelay`, in seconds (e.g. 30 → "30s"). */
  retryDelaySeconds?: number;
  message?: string;
  /** google.rpc.ErrorInfo reason (e.g. ACCOUNT_DISABLED for a 403). */
  reason?: string;
}

export interface FakeCodeAssistRequest {
  method: string;
  token: string | undefined;
  body: Record<string, unknown> | undefined;
  status: number;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export function googleErrorBody(fault: FakeCodeAssistFault): Record<string, unknown> {
  const details: Record<string, unknown>[] = [];
  if (fault.reason !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: fault.reason,
      domain: 'cloudcode-pa.googleapis.com',
    });
  }
  if (fault.retryDelaySeconds !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: `${fault.retryDelaySeconds}s`,
    });
  }
  return {
    error: {
      code: fault.status,
      message:
        fault.message ??
        (fault.status === 429
          ? 'You have exhausted your capacity on this model. Your quota will reset soon.'
          : `fake Code Assist error ${fault.status}`),
      status: STATUS_NAMES[fault.status] ?? 'UNKNOWN',
      ...(details.length > 0 ? { details } : {}),
    },
  };
}

export class FakeCodeAssist {
  readonly requests: FakeCodeAssistRequest[] = [];
  /** loadCodeAssist answers with a current tier (an onboarded account) or without (a new one). */
  onboarded = true;
  /** The tier loadCodeAssist names as current, or offers as default for onboarding. */
  tierId = 'free-tier';
  /** The project of an onboarded account, and the one onboarding creates. */
  projectId = 'fake-project-0001';
  /** GET polls of an onboarding operation before it reports done. */
  onboardingPolls = 1;
  /** The reply's text, streamed word by word. */
  replyText = CODE_ASSIST_REPLY_TEXT;
  /** When set, generate requests must name one of these projects (403 otherwise). */
  knownProjects: Set<string> | null = null;
  /**
   * The model's parts for the next generate/stream requests, in order (a `functionCall`, say);
   * once used up, the reply is `replyText` again. A stream sends one part per event.
   */
  readonly scriptedReplies: Record<string, unknown>[][] = [];

  private authority: GoogleTokenAuthority | undefined;
  private readonly faults = new Map<string, FakeCodeAssistFault[]>();
  private readonly operations = new Map<string, number>();
  private traceSeq = 0;

  /** Accept only live access tokens of this fake Google OAuth server (undefined: any token). */
  useAuth(authority: GoogleTokenAuthority | undefined): this {
    this.authority = authority;
    return this;
  }

  /** The next generate/count requests with this bearer token answer these faults, in order. */
  forToken(token: string, ...faults: FakeCodeAssistFault[]): this {
    this.faults.set(token, [...(this.faults.get(token) ?? []), ...faults]);
    return this;
  }

  reset(): void {
    this.requests.length = 0;
    this.faults.clear();
    this.operations.clear();
    this.authority = undefined;
    this.onboarded = true;
    this.tierId = 'free-tier';
    this.projectId = 'fake-project-0001';
    this.onboardingPolls = 1;
    this.replyText = CODE_ASSIST_REPLY_TEXT;
    this.knownProjects = null;
    this.scriptedReplies.length = 0;
  }

  /** Requests of one method (`generateContent`, `streamGenerateContent`, `onboardUser`, …). */
  calls(method: string): FakeCodeAssistRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  handles(path: string): boolean {
    return path.startsWith('/v1internal:') || path.startsWith('/v1internal/');
  }

  respond(
    res: ServerResponse,
    method: string,
    path: string,
    token: string | undefined,
    json: unknown,
  ): void {
    const body =
      typeof json === 'object' && json !== null && !Array.isArray(json)
        ? (json as Record<string, unknown>)
        : undefined;
    const name = path.startsWith('/v1internal:')
      ? path.slice('/v1internal:'.length)
      : method === 'GET'
        ? 'getOperation'
        : '';
    const record: FakeCodeAssistRequest = { method: name, token, body, status: 0 };
    this.requests.push(record);
    const send = (status: number, payload: unknown): void => {
      record.status = status;
      const text = JSON.stringify(payload);
      res.writeHead(status, {
        'content-type': 'application/json; charset=UTF-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const fail = (fault: FakeCodeAssistFault): void => send(fault.status, googleErrorBody(fault));

    if (token === undefined) {
      fail({ status: 401, message: 'Request is missing required authentication credential.' });
      return;
    }
    if (this.authority !== undefined) {
      const check = this.authority.checkAccessToken(token);
      if (!check.valid) {
        fail({
          status: 401,
          message: 'Request had invalid authentication credentials. Expected OAuth 2 access token.',
          reason:
            check.reason === 'expired' ? 'ACCESS_TOKEN_EXPIRED' : 'ACCESS_TOKEN_TYPE_UNSUPPORTED',
        });
        return;
      }
    }
    switch (name) {
      case 'loadCodeAssist':
        send(200, this.loadAnswer());
        return;
      case 'onboardUser': {
        const opName = `operations/onboard-${this.operations.size + 1}`;
        this.operations.set(opName, 0);
        this.onboarded = true;
        send(200, { name: opName, done: false });
        return;
      }
      case 'getOperation': {
        const opName = path.slice('/v1internal/'.length);
        const polls = this.operations.get(opName);
        if (polls === undefined) {
          fail({ status: 404, message: `operation ${opName} not found` });
          return;
        }
        this.operations.set(opName, polls + 1);
        if (polls + 1 < this.onboardingPolls) {
          send(200, { name: opName, done: false });
          return;
        }
        send(200, {
          name: opName,
          done: true,
          response: {
            '@type':
              'type.googleapis.com/google.internal.cloud.code.v1internal.OnboardUserResponse',
            cloudaicompanionProject: { id: this.projectId, name: this.projectId },
          },
        });
        return;
      }
      case 'generateContent':
      case 'streamGenerateContent':
      case 'countTokens':
        break;
      default:
        fail({ status: 404, message: `Method not found: ${name}` });
        return;
    }

    const queued = this.faults.get(token);
    const fault = queued?.shift();
    if (fault !== undefined) {
      fail(fault);
      return;
    }
    const request = body?.request;
    if (typeof request !== 'object' || request === null) {
      fail({ status: 400, message: 'Invalid JSON payload: "request" is required.' });
      return;
    }
    if (name === 'countTokens') {
      const model = (request as { model?: unknown }).model;
      if (typeof model !== 'string' || !model.startsWith('models/')) {
        fail({ status: 400, message: 'request.model must be "models/{model}"' });
        return;
      }
      send(200, { totalTokens: promptTokensOf(request) });
      return;
    }
    if (typeof body?.model !== 'string' || body.model === '') {
      fail({ status: 400, message: 'model is required' });
      return;
    }
    if (typeof body.project !== 'string' || body.project === '') {
      fail({ status: 400, message: 'project is required' });
      return;
    }
    if (this.knownProjects !== null && !this.knownProjects.has(body.project)) {
      fail({
        status: 403,
        message: `Permission denied on resource project ${body.project}.`,
      });
      return;
    }
    const traceId = `fake-trace-${++this.traceSeq}`;
    const promptTokenCount = promptTokensOf(request);
    const scripted = this.scriptedReplies.shift();
    const words = this.replyText.split(/(?<= )/);
    // Parts a stream sends one per event: the scripted ones, or the reply text word by word.
    const pieces: Record<string, unknown>[] = scripted ?? words.map((word) => ({ text: word }));
    const usage = (n: number) => ({
      promptTokenCount,
      candidatesTokenCount: n,
      totalTokenCount: promptTokenCount + n,
    });
    if (name === 'generateContent') {
      send(200, {
        response: {
          candidates: [
            {
              content: { role: 'model', parts: scripted ?? [{ text: this.replyText }] },
              finishReason: 'STOP',
              index: 0,
            },
          ],
          usageMetadata: usage(pieces.length),
          modelVersion: body.model,
        },
        traceId,
      });
      return;
    }
    record.status = 200;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    pieces.forEach((part, i) => {
      const last = i === pieces.length - 1;
      const event = {
        response: {
          candidates: [
            {
              content: { role: 'model', parts: [part] },
              ...(last ? { finishReason: 'STOP' } : {}),
              index: 0,
            },
          ],
          usageMetadata: usage(i + 1),
          modelVersion: body.model,
        },
        traceId,
      };
      res.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
    });
    res.end();
  }

  private loadAnswer(): Record<string, unknown> {
    const tier = {
      id: this.tierId,
      name:
        this.tierId === 'free-tier' ? 'Gemini Code Assist for individuals' : 'Gemini Code Assist',
      isDefault: true,
      userDefinedCloudaicompanionProject: this.tierId !== 'free-tier',
    };
    if (!this.onboarded) return { allowedTiers: [tier] };
    return {
      currentTier: tier,
      allowedTiers: [tier],
      cloudaicompanionProject: this.projectId,
      gcpManaged: this.tierId === 'free-tier',
    };
  }
}

/** Deterministic prompt tokens: the request's JSON length / 4. */
function promptTokensOf(request: object): number {
  return Math.max(1, Math.ceil(JSON.stringify(request).length / 4));
}
