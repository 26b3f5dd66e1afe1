import { appLogger } from 'src/common/logging/app-logger';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { routableAccount } from '../../../test/factories/account.factory';
import { apiKeyPolicy } from '../../../test/factories/api-key-policy.factory';
import type { InboundLimits } from './inbound-limits';
import type { AdmitStage } from './pipeline/admit.stage';
import type { AuthenticateStage } from './pipeline/authenticate.stage';
import type { ReadBodyStage } from './pipeline/read-body.stage';
import type { RelayContext } from './pipeline/relay-context';
import type { RouteStage } from './pipeline/route.stage';
import type { SettleStage } from './pipeline/settle.stage';
import { FakeProvider } from './pipeline/testing/fake-provider';
import { fakeRequest, FakeResponse } from './pipeline/testing/fake-response';
import type { UpstreamScript } from './pipeline/testing/fake-upstream-http';
import { pipelineHarness, type PipelineHarness } from './pipeline/testing/pipeline-harness';
import { RelayActivity } from './relay-activity';
import { RELAY_ROUTES, type RelayRoute } from './relay.routes';
import { RelayService } from './relay.service';
import type { RelayTracer } from './tracing/relay-tracer';

const BODY = {
  model: 'claude-sonnet-4-5',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'hi' }],
};

describe(RelayService.name, () => {
  let a: RoutableAccount;
  let b: RoutableAccount;
  let h: PipelineHarness;
  let settled: RelayContext[];
  let service: RelayService;
  let activity: RelayActivity;

  /**
   * The real attempt loop and respond stage behind RelayService; the stages before them only
   * fill in the context as they would for an authenticated, admitted request.
   */
  async function setUp(provider?: FakeProvider): Promise<void> {
    h = await pipelineHarness({ accounts: [a, b], provider });
    settled = [];
    activity = new RelayActivity();
    const authenticate = {
      run: async (ctx: RelayContext) => {
        ctx.policy = apiKeyPolicy();
      },
    };
    const readBody = {
      run: async (ctx: RelayContext) => {
        ctx.raw = Buffer.from(JSON.stringify(BODY));
        ctx.parsed = ctx.dialect.parse(ctx.raw, ctx.req);
        ctx.model = ctx.parsed.model;
        ctx.stream = ctx.parsed.stream;
      },
    };
    const route = {
      run: (ctx: RelayContext) => {
        ctx.pick = {
          platform: 'claude',
          model: ctx.model,
          apiKeyId: 'key-1',
          binding: undefined,
          session: null,
          exclude: new Set<string>(),
        };
      },
    };
    service = new RelayService(
      authenticate as unknown as AuthenticateStage,
      readBody as unknown as ReadBodyStage,
      route as unknown as RouteStage,
      { run: async () => undefined } as unknown as AdmitStage,
      h.stage,
      { finish: (ctx: RelayContext) => settled.push(ctx) } as unknown as SettleStage,
      {} as InboundLimits,
      activity,
      { enabled: false } as RelayTracer,
    );
  }

  async function relay(
    route: RelayRoute = RELAY_ROUTES.anthropicMessages,
    res = new FakeResponse(),
  ): Promise<{ res: FakeResponse; ctx: RelayContext }> {
    await service.relay(route, fakeRequest(), res.asResponse());
    expect(settled).toHaveLength(1);
    return { res, ctx: settled[0] };
  }

  const everyAccount = (answer: () => UpstreamScript): void => {
    h.http.answer(a.baseUrl, answer()).answer(b.baseUrl, answer());
  };

  beforeEach(() => {
    jest.spyOn(appLogger, 'warn').mockImplementation(() => appLogger);
    a = routableAccount({ id: 'acct-a', priority: 1, baseUrl: 'https://acct-a.upstream.test' });
    b = routableAccount({ id: 'acct-b', priority: 2, baseUrl: 'https://acct-b.upstream.test' });
  });

  afterEach(async () => {
    await h.close();
    jest.restoreAllMocks();
  });

  describe('relay', () => {
    it('should answer an Anthropic client 529 overloaded_error with retry-after when every upstream is overloaded', async () => {
      await setUp();
      everyAccount(() => ({ status: 529, body: '{"type":"error"}' }));

      const { res, ctx } = await relay();

      expect(res.statusCode).toBe(529);
      expect(JSON.parse(res.text)).toEqual({
        type: 'error',
        error: { type: 'overloaded_error', message: 'upstream is overloaded' },
      });
      expect(Number(res.getHeader('retry-after'))).toBeGreaterThan(0);
      expect(ctx.status).toBe(529);
      expect(ctx.outcome).toBe('error');
      expect(ctx.errorCode).toBe('UPSTREAM_OVERLOADED');
      expect(ctx.attempts).toBe(2);
    });

    it('should answer an OpenAI client 503 in its own error shape for the same failure', async () => {
      await setUp(new FakeProvider('openai-chat'));
      everyAccount(() => ({ status: 529, body: '{}' }));

      const { res } = await relay(RELAY_ROUTES.openaiChat);

      expect(res.statusCode).toBe(503);
      expect(JSON.parse(res.text)).toMatchObject({
        error: { type: 'server_error', code: 'upstream_overloaded' },
      });
    });

    it('should answer 429 rate_limit_error when every account is rate-limited', async () => {
      await setUp();
      everyAccount(() => ({ status: 429, headers: { 'retry-after': '30' }, body: '{}' }));

      const { res, ctx } = await relay();

      expect(res.statusCode).toBe(429);
      expect(JSON.parse(res.text).error.type).toBe('rate_limit_error');
      expect(Number(res.getHeader('retry-after'))).toBeGreaterThanOrEqual(29);
      expect(Number(res.getHeader('retry-after'))).toBeLessThanOrEqual(30);
      expect(ctx.errorCode).toBe('ALL_ACCOUNTS_RATE_LIMITED');
    });

    it('should abort the upstream call and write nothing when the client leaves before the answer', async () => {
      await setUp();
      h.http.answer(a.baseUrl, { hang: true });
      const res = new FakeResponse();

      const done = relay(RELAY_ROUTES.anthropicMessages, res);
      while (h.http.sent.length === 0) await new Promise((resolve) => setImmediate(resolve));
      res.destroy();
      const { ctx } = await done;

      expect(res.heads).toHaveLength(0);
      expect(res.chunks).toHaveLength(0);
      expect(ctx.outcome).toBe('aborted');
      expect(ctx.status).toBe(499);
      expect(ctx.errorCode).toBe('CLIENT_GONE');
      expect(h.reservations).toEqual([{ accountId: 'acct-a', releases: 1 }]);
      expect(h.http.sentTo(b.baseUrl)).toHaveLength(0);
    });

    it('should count a request in flight until it is over, and a stream as a stream', async () => {
      await setUp();
      h.http.answer(a.baseUrl, { hang: true });
      const res = new FakeResponse();
      const body = BODY as Record<string, unknown>;
      body.stream = true;
      try {
        const done = relay(RELAY_ROUTES.anthropicMessages, res);
        while (h.http.sent.length === 0) await new Promise((resolve) => setImmediate(resolve));
        expect([activity.inFlight, activity.streaming]).toEqual([1, 1]);
        res.destroy();
        await done;
      } finally {
        delete body.stream;
      }
      expect([activity.inFlight, activity.streaming]).toEqual([0, 0]);
    });
  });
});
