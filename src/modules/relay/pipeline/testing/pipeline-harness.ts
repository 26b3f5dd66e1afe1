import type { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpTrafficLogger } from 'src/infra/http/http-traffic-logger';
import type { EnvironmentSchema } from 'src/config/environment.schema';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { RelayMetrics } from 'src/modules/metrics/relay-metrics';
import { RELAY_ROUTES, type RelayRoute } from 'src/modules/relay/relay.routes';
import {
  schedulerHarness,
  type SchedulerHarness,
} from 'src/modules/scheduler/testing/scheduler-harness';
import { AttemptLoopStage, type CredentialRefresh } from '../attempt-loop.stage';
import { RelayContext } from '../relay-context';
import { RespondStage } from '../respond.stage';
import { FakeConverter, FakeConverterRegistry } from './fake-converter';
import { FakeProvider, FakeProviderRegistry } from './fake-provider';
import { fakeRequest, FakeResponse, type FakeResponseOptions } from './fake-response';
import { FakeUpstreamHttp } from './fake-upstream-http';

export interface PipelineHarnessOptions {
  accounts: RoutableAccount[];
  env?: Partial<EnvironmentSchema>;
  /** The provider every account is served by (default: the fake format = Anthropic's). */
  provider?: FakeProvider;
  /** A converter between the route's format and the provider's, when they differ. */
  converter?: FakeConverter;
  /** What the credential refresher answers after a 401 (default: it cannot refresh). */
  refresh?: (account: RoutableAccount) => Promise<RoutableAccount | null>;
  /** Where the stage raises notification events (default: none). */
  notifications?: NotificationOutbox;
}

export interface ContextOptions {
  route?: RelayRoute;
  body?: Record<string, unknown>;
  url?: string;
  headers?: IncomingHttpHeaders;
  response?: FakeResponseOptions;
}

/** One account reservation as the attempt loop used it. */
export interface ReservationRecord {
  accountId: string;
  releases: number;
}

export interface PipelineHarness extends SchedulerHarness {
  stage: AttemptLoopStage;
  respond: RespondStage;
  provider: FakeProvider;
  http: FakeUpstreamHttp;
  /** Accounts handed to the refresher, in order. */
  refreshed: RoutableAccount[];
  /** Every reservation the scheduler handed out, with how often it was released. */
  reservations: ReservationRecord[];
  /** Every outcome reported to the scheduler, in order. */
  reports: { accountId: string; outcome: UpstreamOutcome }[];
  /** A request as the stages before the attempt loop leave it, with a fresh fake response. */
  context(options?: ContextOptions): { ctx: RelayContext; res: FakeResponse };
}

/**
 * The attempt loop and the respond stage over the real Scheduler and health state machine, with
 * a fake provider, fake converters and a fake upstream; the scheduler's reserve and report are
 * watched so a spec can count releases and read outcomes.
 */
export async function pipelineHarness(options: PipelineHarnessOptions): Promise<PipelineHarness> {
  const base = await schedulerHarness(options.accounts, options.env);
  const { scheduler, config, settings } = base;
  const provider = options.provider ?? new FakeProvider();
  const http = new FakeUpstreamHttp(config);
  const refreshed: RoutableAccount[] = [];
  const refresher: CredentialRefresh = {
    refreshAfterAuthFailure(account) {
      refreshed.push(account);
      return options.refresh?.(account) ?? Promise.resolve(null);
    },
  };

  const reservations: ReservationRecord[] = [];
  const reserve = scheduler.reserve.bind(scheduler);
  scheduler.reserve = async (...args) => {
    const result = await reserve(...args);
    if (result.ok) {
      const record: ReservationRecord = { accountId: result.reservation.account.id, releases: 0 };
      reservations.push(record);
      const release = result.reservation.release.bind(result.reservation);
      result.reservation.release = () => {
        record.releases += 1;
        release();
      };
    }
    return result;
  };
  const reports: { accountId: string; outcome: UpstreamOutcome }[] = [];
  const report = scheduler.report.bind(scheduler);
  scheduler.report = (reservation, outcome) => {
    reports.push({ accountId: reservation.account.id, outcome });
    return report(reservation, outcome);
  };

  const respond = new RespondStage(config);
  const stage = new AttemptLoopStage(
    scheduler,
    new FakeProviderRegistry(provider),
    new FakeConverterRegistry(options.converter ?? null),
    http,
    refresher,
    respond,
    settings,
    new HttpTrafficLogger(config),
    new RelayMetrics(new MetricsService()),
    options.notifications,
  );

  let requests = 0;
  return {
    ...base,
    stage,
    respond,
    provider,
    http,
    refreshed,
    reservations,
    reports,
    context(contextOptions = {}) {
      const route = contextOptions.route ?? RELAY_ROUTES.anthropicMessages;
      const res = new FakeResponse(contextOptions.response);
      const req = fakeRequest({ url: contextOptions.url, headers: contextOptions.headers });
      requests += 1;
      const ctx = new RelayContext(route, req, res.asResponse(), `req-${requests}`);
      const body = contextOptions.body ?? { model: 'claude-sonnet-4-5', max_tokens: 64 };
      ctx.raw = Buffer.from(JSON.stringify(body));
      ctx.parsed = route.dialect.parse(ctx.raw, ctx.req);
      ctx.model = ctx.parsed.model;
      ctx.routedModel = ctx.parsed.model;
      ctx.stream = ctx.parsed.stream;
      ctx.pick = {
        platform: 'claude',
        model: ctx.parsed.model,
        apiKeyId: 'key-1',
        binding: undefined,
        session: null,
        exclude: new Set<string>(),
      };
      return { ctx, res };
    },
  };
}
