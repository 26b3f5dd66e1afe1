import { Injectable, Optional } from '@nestjs/common';
import { HttpTrafficLogger } from 'src/infra/http/http-traffic-logger';
import { secretValuesOf } from 'src/infra/http/http-traffic-redaction';
import {
  transportFaultOf,
  UpstreamHttp,
  type UpstreamResponse,
} from 'src/infra/http/upstream-http.service';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import type { AccountTester } from 'src/modules/accounts/account-tester';
import { descriptorOf } from 'src/modules/accounts/types/account-types.registry';
import { readLimited } from './pipeline/pump';
import { ProviderRegistry } from './providers/provider.registry';

/** What a test reads of the answer: enough for the upstream's error message. */
const TEST_BODY_LIMIT = 64 * 1024;

/**
 * "Test" for an account: the one tiny real request its type's descriptor describes, through its
 * provider, credentials and proxy. Sent here, not through the relay's attempt loop: traced for
 * DEBUG_HTTP_TRAFFIC under the account (no key).
 */
@Injectable()
export class RelayAccountTester implements AccountTester {
  constructor(
    private readonly http: UpstreamHttp,
    private readonly providers: ProviderRegistry,
    @Optional() private readonly traffic?: HttpTrafficLogger,
  ) {}

  async test(account: RoutableAccount): Promise<{
    ok: boolean;
    status: number | null;
    latencyMs: number;
    model: string | null;
    message: string;
  }> {
    const { testRequest } = descriptorOf(account.type);
    const fallback = testRequest.defaultModel;
    const models = account.models;
    const model =
      models === null
        ? fallback
        : Array.isArray(models)
          ? (models.find((m) => !m.includes('*')) ?? fallback)
          : (Object.values(models)[0] ?? fallback);
    const spec = testRequest.build(model);
    const provider = this.providers.forAccount(account);
    const started = Date.now();
    try {
      const request = await provider.buildRequest(account, {
        format: provider.formats[0],
        endpoint: { path: spec.path, query: '' },
        headers: { 'user-agent': 'switchyard-account-test' },
        body: Buffer.from(JSON.stringify(spec.body)),
      });
      request.signal = AbortSignal.timeout(30_000);
      // DEBUG_HTTP_TRAFFIC: one boolean when off.
      const trace =
        this.traffic?.enabled === true
          ? this.traffic.begin(
              { keyId: null, accountId: account.id },
              request,
              secretValuesOf(account.credentials, account.proxyUrl),
            )
          : null;
      let response: UpstreamResponse;
      try {
        response = await this.http.send(request);
      } catch (error) {
        trace?.failed(error);
        throw error;
      }
      // A body that fails while read shows as its body line's `end: error`.
      if (trace !== null) response = trace.response(response);
      // Read as a stream: a traced body is the tap, not undici's body (which has text()).
      const text = (
        await readLimited(response.body as AsyncIterable<Buffer>, TEST_BODY_LIMIT)
      ).toString('utf8');
      const latencyMs = Date.now() - started;
      if (response.statusCode < 300) {
        return { ok: true, status: response.statusCode, latencyMs, model, message: 'ok' };
      }
      let message = `upstream answered ${response.statusCode}`;
      try {
        const parsed = JSON.parse(text) as { error?: { type?: string; message?: string } };
        if (parsed.error?.message !== undefined)
          message += `: ${parsed.error.type ?? 'error'}: ${parsed.error.message.slice(0, 200)}`;
      } catch {
        // not JSON: the status says enough
      }
      return { ok: false, status: response.statusCode, latencyMs, model, message };
    } catch (error) {
      const fault = transportFaultOf(error) ?? 'error';
      return {
        ok: false,
        status: null,
        latencyMs: Date.now() - started,
        model,
        message: `request failed: ${fault}`,
      };
    }
  }
}
