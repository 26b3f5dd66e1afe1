import { appLogger } from 'src/common/logging/app-logger';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import { RELAY_ROUTES } from 'src/modules/relay/relay.routes';
import { routableAccount } from '../../../../test/factories/account.factory';
import type { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import { AttemptLoopStage, NO_ROUTABLE_ACCOUNT_BUCKET_MS } from './attempt-loop.stage';
import { ClientGoneError } from './relay-context';
import { FakeConverter } from './testing/fake-converter';
import type { WireFormat } from 'src/modules/relay/wire-format';
import { FakeProvider, sseEvent } from './testing/fake-provider';
import { transportErrors, UpstreamBody, type UpstreamScript } from './testing/fake-upstream-http';
import { pipelineHarness, type PipelineHarness } from './testing/pipeline-harness';

function account(id: string, priority: number, overrides: Partial<RoutableAccount> = {}) {
  return routableAccount({
    id,
    priority,
    baseUrl: `https://${id}.upstream.test`,
    concurrencyLimit: 4,
    credentials: { type: 'claude-console', apiKey: `key-${id}` },
    ...overrides,
  });
}

const OK_BODY = JSON.stringify({ id: 'msg_1', usage: { inputTokens: 5, outputTokens: 7 } });
const ok = (body = OK_BODY): UpstreamScript => ({ status: 200, body });
const status = (code: number, headers: Record<string, string> = {}): UpstreamScript => ({
  status: code,
  headers,
  body: JSON.stringify({ type: 'error', error: { type: 'upstream', message: `status ${code}` } }),
});

/** Resolves once the fake upstream has received n requests. */
async function sent(h: PipelineHarness, n: number): Promise<void> {
  while (h.http.sent.length < n) await new Promise((resolve) => setImmediate(resolve));
}

/** The error the promise rejects with (fails the spec when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const IDLE = { inFlight: 0, leases: 0 };

describe(AttemptLoopStage.name, () => {
  let a: RoutableAccount;
  let b: RoutableAccount;
  let h: PipelineHarness;

  async function harness(options: Partial<Parameters<typeof pipelineHarness>[0]> = {}) {
    h = await pipelineHarness({ accounts: [a, b], ...options });
    return h;
  }

  beforeEach(() => {
    jest.spyOn(appLogger, 'warn').mockImplementation(() => appLogger);
    a = account('acct-a', 1);
    b = account('acct-b', 2);
  });

  afterEach(async () => {
    await h.close();
    jest.restoreAllMocks();
  });

  describe('run', () => {
    describe('failover before the first byte', () => {
      const cases: [string, UpstreamScript, UpstreamOutcome][] = [
        ['a 429', status(429), { kind: 'rate_limited', resetAt: null, scope: 'account' }],
        ['a 529', status(529), { kind: 'overloaded', status: 529 }],
        ['a 500', status(500), { kind: 'server_error', status: 500 }],
        ['a 503', status(503), { kind: 'server_error', status: 503 }],
        [
          'a connect error',
          { error: transportErrors.connectRefused() },
          { kind: 'connect_error', code: 'ECONNREFUSED' },
        ],
        [
          'a connect timeout',
          { error: transportErrors.connectTimeout() },
          { kind: 'timeout', phase: 'connect' },
        ],
        [
          'a first-byte timeout',
          { error: transportErrors.firstByteTimeout() },
          { kind: 'timeout', phase: 'first_byte' },
        ],
        [
          'a connection reset',
          { error: transportErrors.reset() },
          { kind: 'connect_error', code: 'UND_ERR_SOCKET' },
        ],
        ['a 401 the refresher cannot fix', status(401), { kind: 'auth_failed', status: 401 }],
      ];

      it.each(cases)(
        'should serve from the second account and report the first when it answers %s',
        async (_name, first, expected) => {
          await harness();
          h.http.answer(a.baseUrl, first).answer(b.baseUrl, ok());
          const { ctx, res } = h.context();

          await h.stage.run(ctx);

          expect(res.statusCode).toBe(200);
          expect(res.text).toBe(OK_BODY);
          expect(ctx.accountId).toBe('acct-b');
          expect(ctx.attempts).toBe(2);
          expect(ctx.outcome).toBe('ok');
          expect(ctx.usage).toMatchObject({ inputTokens: 5, outputTokens: 7 });
          expect(h.reports).toEqual([
            { accountId: 'acct-a', outcome: expected },
            { accountId: 'acct-b', outcome: { kind: 'success' } },
          ]);
          expect(h.reservations).toEqual([
            { accountId: 'acct-a', releases: 1 },
            { accountId: 'acct-b', releases: 1 },
          ]);
          expect(await h.held()).toEqual({ 'acct-a': IDLE, 'acct-b': IDLE });
          // What was reported is what the next request's pick sees.
          expect(h.health.routable(a, ctx.model).ok).toBe(false);
          expect(h.health.routable(b, ctx.model).ok).toBe(true);
        },
      );

      it('should fail over when a 5xx body breaks off while it is read', async () => {
        await harness();
        h.http
          .answer(a.baseUrl, {
            status: 502,
            body: new UpstreamBody(['{"type":"error"'], transportErrors.reset()),
          })
          .answer(b.baseUrl, ok());
        const { ctx, res } = h.context();

        await h.stage.run(ctx);

        expect(res.text).toBe(OK_BODY);
        expect(h.reports[0]).toEqual({
          accountId: 'acct-a',
          outcome: { kind: 'connect_error', code: 'UND_ERR_SOCKET' },
        });
        expect(h.reservations.map((r) => r.releases)).toEqual([1, 1]);
      });

      it('should retry the same account with fresh credentials when a 401 is fixed by a refresh', async () => {
        const fresh = {
          ...a,
          credentials: { type: 'claude-console' as const, apiKey: 'key-fresh' },
        };
        await harness({ refresh: () => Promise.resolve(fresh) });
        h.http.answer(a.baseUrl, status(401), ok());
        const { ctx, res } = h.context();

        await h.stage.run(ctx);

        expect(res.text).toBe(OK_BODY);
        expect(ctx.accountId).toBe('acct-a');
        expect(ctx.attempts).toBe(2);
        expect(h.refreshed.map((x) => x.id)).toEqual(['acct-a']);
        expect(h.provider.built.map((r) => [r.accountId, r.credential])).toEqual([
          ['acct-a', 'key-acct-a'],
          ['acct-a', 'key-fresh'],
        ]);
        expect(h.http.sent[1].headers.authorization).toBe('Bearer key-fresh');
        expect(h.http.sentTo(b.baseUrl)).toHaveLength(0);
        // One reservation held across the refresh; no auth failure on the account's record.
        expect(h.reservations).toEqual([{ accountId: 'acct-a', releases: 1 }]);
        expect(h.reports).toEqual([{ accountId: 'acct-a', outcome: { kind: 'success' } }]);
        expect(a.status).toBe('active');
        expect(await h.held()).toEqual({ 'acct-a': IDLE, 'acct-b': IDLE });
      });

      it('should let the scheduler read every upstream response, the refused ones included', async () => {
        const fresh = {
          ...a,
          credentials: { type: 'claude-console' as const, apiKey: 'key-fresh' },
        };
        await harness({ refresh: () => Promise.resolve(fresh) });
        const observed: [string, unknown][] = [];
        jest
          .spyOn(h.scheduler, 'observe')
          .mockImplementation((reservation, headers) =>
            observed.push([reservation.account.id, headers['x-window']]),
          );
        h.http
          .answer(
            a.baseUrl,
            status(401, { 'x-window': 'a-401' }),
            status(429, { 'x-window': 'a-429' }),
          )
          .answer(b.baseUrl, { status: 200, headers: { 'x-window': 'b-200' }, body: OK_BODY });
        const { ctx, res } = h.context();

        await h.stage.run(ctx);

        expect(res.text).toBe(OK_BODY);
        // A usage-limit 429 names the window that ran out: it must be read like a success.
        expect(observed).toEqual([
          ['acct-a', 'a-401'],
          ['acct-a', 'a-429'],
          ['acct-b', 'b-200'],
        ]);
      });

      it('should have no headers to read after a transport fault', async () => {
        await harness();
        const observe = jest.spyOn(h.scheduler, 'observe');
        h.http
          .answer(a.baseUrl, { error: transportErrors.connectRefused() })
          .answer(b.baseUrl, ok());
        const { ctx } = h.context();

        await h.stage.run(ctx);

        expect(observe.mock.calls.map(([reservation]) => reservation.account.id)).toEqual([
          'acct-b',
        ]);
      });

      it('should refresh once and fail over when the fresh credentials are refused too', async () => {
        const fresh = {
          ...a,
          credentials: { type: 'claude-console' as const, apiKey: 'key-fresh' },
        };
        await harness({ refresh: () => Promise.resolve(fresh) });
        h.http.answer(a.baseUrl, status(401), status(401)).answer(b.baseUrl, ok());
        const { ctx, res } = h.context();

        await h.stage.run(ctx);

        expect(res.text).toBe(OK_BODY);
        expect(ctx.accountId).toBe('acct-b');
        expect(ctx.attempts).toBe(3);
        expect(h.refreshed).toHaveLength(1);
        expect(h.reports.map((r) => [r.accountId, r.outcome.kind])).toEqual([
          ['acct-a', 'auth_failed'],
          ['acct-b', 'success'],
        ]);
        expect(h.reservations.map((r) => r.releases)).toEqual([1, 1]);
      });
    });

    describe('when every account fails', () => {
      const cases: [string, UpstreamScript, RelayExceptionCode, number][] = [
        ['429', status(429), RelayExceptionCode.ALL_ACCOUNTS_RATE_LIMITED, 60_000],
        ['529', status(529), RelayExceptionCode.UPSTREAM_OVERLOADED, 60_000],
        ['500', status(500), RelayExceptionCode.UPSTREAM_BAD_RESPONSE, 30_000],
        [
          'a first-byte timeout',
          { error: transportErrors.firstByteTimeout() },
          RelayExceptionCode.UPSTREAM_TIMEOUT,
          30_000,
        ],
        [
          'a connect error',
          { error: transportErrors.connectRefused() },
          RelayExceptionCode.UPSTREAM_UNREACHABLE,
          30_000,
        ],
        [
          'a connection reset',
          { error: transportErrors.reset() },
          RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
          30_000,
        ],
      ];

      it.each(cases)(
        'should throw the matching error with its retry time and hold nothing when each answers %s',
        async (_name, answer, code, retryInMs) => {
          await harness({
            env: {
              ACCOUNT_RATE_LIMIT_FALLBACK_MS: 60_000,
              ACCOUNT_COOLDOWN_OVERLOADED_MS: 60_000,
              ACCOUNT_COOLDOWN_SERVER_ERROR_MS: 30_000,
              ACCOUNT_COOLDOWN_TIMEOUT_MS: 30_000,
            },
          });
          h.http.answer(a.baseUrl, answer).answer(b.baseUrl, answer);
          const { ctx, res } = h.context();
          const before = Date.now();

          const error = await rejection(h.stage.run(ctx));

          expect(error).toBeInstanceOf(RelayException);
          const relayError = error as RelayException;
          expect(relayError.code).toBe(code);
          expect(relayError.retryAtMs).toBeGreaterThanOrEqual(before + retryInMs);
          expect(relayError.retryAtMs).toBeLessThanOrEqual(Date.now() + retryInMs);
          expect(ctx.attempts).toBe(2);
          expect(res.headersSent).toBe(false);
          expect(h.reservations).toEqual([
            { accountId: 'acct-a', releases: 1 },
            { accountId: 'acct-b', releases: 1 },
          ]);
          expect(await h.held()).toEqual({ 'acct-a': IDLE, 'acct-b': IDLE });
        },
      );

      it('should answer with the earliest reset the upstreams named when all are rate-limited', async () => {
        await harness();
        h.http
          .answer(a.baseUrl, status(429, { 'retry-after': '40' }))
          .answer(b.baseUrl, status(429, { 'retry-after': '20' }));
        const { ctx } = h.context();
        const before = Date.now();

        const error = (await rejection(h.stage.run(ctx))) as RelayException;

        expect(error.code).toBe(RelayExceptionCode.ALL_ACCOUNTS_RATE_LIMITED);
        expect(error.status).toBe(429);
        expect(error.retryAtMs).toBeGreaterThanOrEqual(before + 20_000);
        expect(error.retryAtMs).toBeLessThanOrEqual(Date.now() + 20_000);
      });

      it('should stop after RELAY_MAX_ATTEMPTS even when more accounts are left', async () => {
        const c = account('acct-c', 3);
        const d = account('acct-d', 4);
        h = await pipelineHarness({ accounts: [a, b, c, d], env: { RELAY_MAX_ATTEMPTS: 2 } });
        for (const x of [a, b, c, d]) h.http.answer(x.baseUrl, status(500));
        const { ctx } = h.context();

        const error = (await rejection(h.stage.run(ctx))) as RelayException;

        expect(error.code).toBe(RelayExceptionCode.UPSTREAM_BAD_RESPONSE);
        expect(h.http.sent.map((r) => new URL(r.url).hostname)).toEqual([
          'acct-a.upstream.test',
          'acct-b.upstream.test',
        ]);
        expect(ctx.attempts).toBe(2);
        expect(h.reservations.map((r) => r.releases)).toEqual([1, 1]);
        const held = await h.held();
        expect(Object.values(held)).toEqual([IDLE, IDLE, IDLE, IDLE]);
      });

      it('should follow a change of the relayMaxAttempts setting from the next request on', async () => {
        const c = account('acct-c', 3);
        const d = account('acct-d', 4);
        // No cooldown: every request can try the whole pool again.
        h = await pipelineHarness({
          accounts: [a, b, c, d],
          env: { RELAY_MAX_ATTEMPTS: 2, ACCOUNT_COOLDOWN_SERVER_ERROR_MS: 0 },
        });
        for (const x of [a, b, c, d]) {
          h.http.answer(x.baseUrl, status(500), status(500), status(500));
        }
        const attemptsOfOneRequest = async (): Promise<number> => {
          const { ctx } = h.context();
          await rejection(h.stage.run(ctx));
          return ctx.attempts;
        };

        expect(await attemptsOfOneRequest()).toBe(2);
        h.settings.set('relayMaxAttempts', 4);
        expect(await attemptsOfOneRequest()).toBe(4);
        h.settings.set('relayMaxAttempts', 1);
        expect(await attemptsOfOneRequest()).toBe(1);
        expect(h.http.sent).toHaveLength(7);
      });

      it('should throw NO_ACCOUNT_AVAILABLE without sending anything when no account serves the model', async () => {
        a.models = ['claude-haiku-4-5'];
        b.models = ['claude-haiku-4-5'];
        await harness();
        const { ctx } = h.context();

        const error = (await rejection(h.stage.run(ctx))) as RelayException;

        expect(error.code).toBe(RelayExceptionCode.NO_ACCOUNT_AVAILABLE);
        expect(ctx.attempts).toBe(0);
        expect(h.http.sent).toHaveLength(0);
        expect(h.reservations).toHaveLength(0);
      });
    });

    describe('platform.no_routable_account notification', () => {
      const NOW = Date.parse('2026-01-02T03:04:05Z');
      let emit: jest.Mock<Promise<boolean>, Parameters<NotificationOutbox['emit']>>;
      const notifications = () => ({ emit }) as unknown as NotificationOutbox;

      beforeEach(() => {
        emit = jest.fn<Promise<boolean>, Parameters<NotificationOutbox['emit']>>(async () => true);
        jest.spyOn(Date, 'now').mockReturnValue(NOW);
      });

      it('should raise one event for 20 requests refused with NO_ACCOUNT_AVAILABLE', async () => {
        a.models = ['claude-haiku-4-5'];
        b.models = ['claude-haiku-4-5'];
        await harness({ notifications: notifications() });

        const errors = await Promise.all(
          Array.from({ length: 20 }, () => rejection(h.stage.run(h.context().ctx))),
        );

        expect(
          errors.every(
            (e) => (e as RelayException).code === RelayExceptionCode.NO_ACCOUNT_AVAILABLE,
          ),
        ).toBe(true);
        expect(emit).toHaveBeenCalledTimes(1);
        const { ctx } = h.context();
        const bucket = Math.floor(NOW / NO_ROUTABLE_ACCOUNT_BUCKET_MS);
        expect(emit).toHaveBeenCalledWith({
          type: 'platform.no_routable_account',
          dedupeKey: `platform.no_routable_account:${ctx.pick!.platform}:${bucket}`,
          at: NOW,
          severity: 'critical',
          title: `No routable ${ctx.pick!.platform} account`,
          message: expect.stringContaining(`first seen for model ${ctx.pick!.model}`) as string,
          subject: { kind: 'platform', id: ctx.pick!.platform, name: ctx.pick!.platform },
          data: {
            platform: ctx.pick!.platform,
            model: ctx.pick!.model,
            bucketStart: new Date(bucket * NO_ROUTABLE_ACCOUNT_BUCKET_MS).toISOString(),
          },
        });
      });

      it('should raise nothing when the request is served', async () => {
        await harness({ notifications: notifications() });
        h.http.answer(a.baseUrl, ok());
        const { ctx, res } = h.context();
        await h.stage.run(ctx);
        expect(res.statusCode).toBe(200);
        expect(emit).not.toHaveBeenCalled();
      });

      it('should answer at once even when the outbox write hangs', async () => {
        emit.mockImplementation(() => new Promise<boolean>(() => undefined));
        a.models = ['claude-haiku-4-5'];
        b.models = ['claude-haiku-4-5'];
        await harness({ notifications: notifications() });
        await expect(h.stage.run(h.context().ctx)).rejects.toMatchObject({
          code: RelayExceptionCode.NO_ACCOUNT_AVAILABLE,
        });
      });
    });

    describe('when the client leaves', () => {
      it('should throw ClientGoneError, abort the upstream call and release the reservation when the client leaves during an attempt', async () => {
        await harness();
        h.http.answer(a.baseUrl, { hang: true });
        const { ctx } = h.context();

        const run = rejection(h.stage.run(ctx));
        await sent(h, 1);
        expect(await h.held()).toEqual({ 'acct-a': { inFlight: 1, leases: 1 }, 'acct-b': IDLE });
        // What RelayService does when the client's connection closes.
        ctx.clientGone = true;
        ctx.abort.abort();

        expect(await run).toBeInstanceOf(ClientGoneError);
        expect(h.reservations).toEqual([{ accountId: 'acct-a', releases: 1 }]);
        expect(await h.held()).toEqual({ 'acct-a': IDLE, 'acct-b': IDLE });
        // Not the account's fault: nothing reported, nothing else tried.
        expect(h.reports).toEqual([]);
        expect(h.health.routable(a, ctx.model).ok).toBe(true);
        expect(h.http.sentTo(b.baseUrl)).toHaveLength(0);
      });

      it('should not retry when the client left while the credentials were refreshed', async () => {
        let leave = (): void => undefined;
        await harness({
          refresh: (x) => {
            leave();
            return Promise.resolve({ ...x });
          },
        });
        h.http.answer(a.baseUrl, status(401));
        const { ctx } = h.context();
        leave = () => {
          ctx.clientGone = true;
        };

        expect(await rejection(h.stage.run(ctx))).toBeInstanceOf(ClientGoneError);
        expect(h.http.sent).toHaveLength(1);
        expect(h.reservations).toEqual([{ accountId: 'acct-a', releases: 1 }]);
        expect(await h.held()).toEqual({ 'acct-a': IDLE, 'acct-b': IDLE });
      });
    });

    describe('an upstream 4xx about the request', () => {
      const ERROR_BODY = JSON.stringify({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'max_tokens: too large' },
      });

      it('should pass a 400 to the client byte for byte without failing over', async () => {
        await harness();
        h.http.answer(a.baseUrl, {
          status: 400,
          headers: { 'content-type': 'application/json', 'request-id': 'req_up_1' },
          body: ERROR_BODY,
        });
        const { ctx, res } = h.context();

        await h.stage.run(ctx);

        expect(res.statusCode).toBe(400);
        expect(res.body.equals(Buffer.from(ERROR_BODY))).toBe(true);
        expect(res.getHeader('request-id')).toBe('req_up_1');
        expect(res.getHeader('content-length')).toBeUndefined();
        expect(ctx.status).toBe(400);
        expect(ctx.outcome).toBe('error');
        expect(ctx.errorCode).toBe('UPSTREAM_400');
        expect(ctx.attempts).toBe(1);
        expect(h.http.sentTo(b.baseUrl)).toHaveLength(0);
        // The client's mistake says nothing about the account.
        expect(h.reports).toEqual([]);
        expect(h.health.routable(a, ctx.model).ok).toBe(true);
        expect(h.reservations).toEqual([{ accountId: 'acct-a', releases: 1 }]);
        expect(await h.held()).toEqual({ 'acct-a': IDLE, 'acct-b': IDLE });
      });

      it("should pass the provider's error through the conversion when the formats differ", async () => {
        const converter = new FakeConverter('anthropic-messages', 'openai-chat');
        await harness({ provider: new FakeProvider('openai-chat'), converter });
        h.http.answer(a.baseUrl, { status: 400, body: ERROR_BODY });
        const { ctx, res } = h.context();

        await h.stage.run(ctx);

        expect(res.statusCode).toBe(400);
        expect(res.getHeader('content-type')).toBe('application/json');
        expect(JSON.parse(res.text)).toEqual({ clientError: 400, provider: ERROR_BODY });
        expect(converter.conversions[0].errors).toEqual([{ status: 400, body: ERROR_BODY }]);
        expect(ctx.errorCode).toBe('UPSTREAM_400');
        expect(ctx.outcome).toBe('error');
      });
    });

    describe('the request sent upstream', () => {
      it("should send the client's bytes untouched, with its query string", async () => {
        await harness();
        h.http.answer(a.baseUrl, ok());
        const { ctx } = h.context({ url: '/v1/messages?beta=true' });

        await h.stage.run(ctx);

        expect(h.http.sent[0].body).toBe(ctx.raw);
        expect(h.http.sent[0].url).toBe(
          'https://acct-a.upstream.test/fake/claude-sonnet-4-5/generate?beta=true',
        );
        expect(h.http.sent[0].signal).toBe(ctx.abort);
      });

      it("should rename the model when the account maps it, and record the account's name", async () => {
        a.models = { 'claude-sonnet-4-5': 'sonnet-on-acct-a' };
        await harness();
        h.http.answer(a.baseUrl, ok());
        const { ctx } = h.context({ body: { model: 'claude-sonnet-4-5', max_tokens: 8, x: 1 } });

        await h.stage.run(ctx);

        expect(JSON.parse(String(h.http.sent[0].body))).toEqual({
          model: 'sonnet-on-acct-a',
          max_tokens: 8,
          x: 1,
        });
        expect(ctx.model).toBe('sonnet-on-acct-a');
      });

      it('should send the converted body, and convert once per upstream model', async () => {
        const converter = new FakeConverter('anthropic-messages', 'openai-chat');
        await harness({ provider: new FakeProvider('openai-chat'), converter });
        h.http.answer(a.baseUrl, status(500)).answer(b.baseUrl, ok());
        const { ctx } = h.context({ url: '/v1/messages?beta=true' });

        await h.stage.run(ctx);

        expect(converter.inputs).toHaveLength(1);
        expect(converter.inputs[0]).toMatchObject({
          upstreamModel: 'claude-sonnet-4-5',
          requestedModel: 'claude-sonnet-4-5',
          stream: false,
          operation: 'generate',
          requestId: ctx.requestId,
        });
        const conversion = converter.conversions[0];
        expect(h.http.sent.map((r) => r.body)).toEqual([conversion.body, conversion.body]);
        // The client's query string belongs to the client's format, not the provider's.
        expect(h.http.sent[0].url).not.toContain('beta=true');
      });

      it("should send the provider's adjusted body with the model its body names, and filter the stream back", async () => {
        /** Adds a field upstream and names the model differently in the body (as Azure does). */
        class AdjustingProvider extends FakeProvider {
          passthrough(_format: WireFormat, body: Record<string, unknown>, stream: boolean) {
            return stream
              ? {
                  body: { ...body, added: true },
                  stream: () => ({
                    push: (chunk: Buffer) =>
                      Buffer.from(chunk.toString().replace('event: added\ndata: {}\n\n', '')),
                    end: () => Buffer.alloc(0),
                  }),
                }
              : null;
          }

          bodyModel(account: RoutableAccount, model: string): string {
            return `${model}@${account.id}`;
          }
        }
        await harness({ provider: new AdjustingProvider() });
        const stream = sseEvent('delta', { text: 'hi' }) + 'event: added\ndata: {}\n\n';
        h.http.answer(a.baseUrl, {
          status: 200,
          headers: { 'content-type': 'text/event-stream' },
          body: [stream, sseEvent('final', { usage: { inputTokens: 3, outputTokens: 4 } })],
        });
        const { ctx, res } = h.context({
          body: { model: 'claude-sonnet-4-5', max_tokens: 8, stream: true },
        });

        await h.stage.run(ctx);

        expect(JSON.parse(String(h.http.sent[0].body))).toEqual({
          model: 'claude-sonnet-4-5@acct-a',
          max_tokens: 8,
          stream: true,
          added: true,
        });
        // The endpoint and the usage keep the model's own name.
        expect(h.http.sent[0].url).toContain('/fake/claude-sonnet-4-5/');
        expect(ctx.model).toBe('claude-sonnet-4-5');
        expect(res.text).toBe(
          sseEvent('delta', { text: 'hi' }) +
            sseEvent('final', { usage: { inputTokens: 3, outputTokens: 4 } }),
        );
        // The tap read the provider's side, before the filter.
        expect(Buffer.concat(h.provider.taps[0].seen).toString()).toContain('event: added');
      });

      it("should send the client's bytes when the provider needs no adjustment", async () => {
        class NeverAdjusts extends FakeProvider {
          passthrough() {
            return null;
          }
        }
        await harness({ provider: new NeverAdjusts() });
        h.http.answer(a.baseUrl, ok());
        const { ctx } = h.context();

        await h.stage.run(ctx);

        expect(h.http.sent[0].body).toBe(ctx.raw);
      });

      it('should refuse a request no converter can carry to the account before sending it', async () => {
        await harness({ provider: new FakeProvider('code-assist') });
        const { ctx } = h.context({ route: RELAY_ROUTES.anthropicMessages });

        const error = (await rejection(h.stage.run(ctx))) as RelayException;

        expect(error.code).toBe(RelayExceptionCode.UNSUPPORTED_PARAMETER);
        expect(h.http.sent).toHaveLength(0);
        expect(h.reservations).toEqual([{ accountId: 'acct-a', releases: 1 }]);
        expect(await h.held()).toEqual({ 'acct-a': IDLE, 'acct-b': IDLE });
      });
    });
  });
});
