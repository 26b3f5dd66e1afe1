import { Injectable } from '@nestjs/common';
import { transportFaultOf, UpstreamHttp } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import type { AccountTester } from 'src/modules/accounts/account-tester';
import { ProviderRegistry } from './providers/provider.registry';

const TEST_MODEL = 'claude-haiku-4-5';

/** "Test" for an account: one tiny real Messages request through its credentials and proxy. */
@Injectable()
export class RelayAccountTester implements AccountTester {
  constructor(
    private readonly http: UpstreamHttp,
    private readonly providers: ProviderRegistry,
  ) {}

  async test(account: RoutableAccount): Promise<{
    ok: boolean;
    status: number | null;
    latencyMs: number;
    model: string | null;
    message: string;
  }> {
    const models = account.models;
    const model =
      models === null
        ? TEST_MODEL
        : Array.isArray(models)
          ? (models.find((m) => !m.includes('*')) ?? TEST_MODEL)
          : (Object.values(models)[0] ?? TEST_MODEL);
    const body = Buffer.from(
      JSON.stringify({ model, max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] }),
    );
    const provider = this.providers.forAccount(account);
    const started = Date.now();
    try {
      const request = await provider.buildRequest(account, {
        endpoint: provider.endpoint('generate', model, false),
        headers: { 'user-agent': 'switchyard-account-test' },
        body,
      });
      request.signal = AbortSignal.timeout(30_000);
      const response = await this.http.send(request);
      const text = await response.body.text();
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
