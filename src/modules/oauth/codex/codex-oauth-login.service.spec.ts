import { setLogLevel } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { LocalCoordinator } from 'src/infra/coordination/local.coordinator';
import type { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountsException, AccountsExceptionCode } from 'src/modules/accounts/accounts.exception';
import type { AccountRecord, AccountsRepository } from 'src/modules/accounts/accounts.repository';
import type { AccountsService } from 'src/modules/accounts/accounts.service';
import type { CreateAccountInput } from 'src/modules/accounts/dto/create-account.dto';
import type { UpdateAccountInput } from 'src/modules/accounts/dto/update-account.dto';
import { CodexOAuthException, CodexOAuthExceptionCode } from './codex-oauth.exception';
import { codexOAuthKeys } from './codex-oauth.keys';
import { CodexOAuthLoginService, type CodexExchangeInput } from './codex-oauth-login.service';
import type { CodexTokenClient, TokenCallResult } from './codex-token.client';

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.c2ln`;
}

const ID_TOKEN = jwt({
  email: 'dev@example.com',
  'https://api.openai.com/auth': { chatgpt_account_id: 'acct-1', chatgpt_plan_type: 'pro' },
});

/** The collaborators of the service: a real in-memory coordinator, the rest played. */
function setup(options: { now?: () => number } = {}) {
  let clock = 1_800_000_000_000;
  const now = options.now ?? (() => clock);
  const coordinator = new LocalCoordinator({ instanceId: 'test', now });
  const exchanges: {
    code: string;
    codeVerifier: string;
    proxy: string | null;
    tracedAccount: string | null;
  }[] = [];
  let answer: TokenCallResult = {
    ok: true,
    body: { access_token: 'at-1', refresh_token: 'rt-1', id_token: ID_TOKEN },
  };
  const tokenClient = {
    exchangeCode: async (
      grant: { code: string; codeVerifier: string },
      proxy: string | null,
      tracedAccount: string | null,
    ) => {
      exchanges.push({ code: grant.code, codeVerifier: grant.codeVerifier, proxy, tracedAccount });
      return answer;
    },
  } as unknown as CodexTokenClient;
  const records: AccountRecord[] = [];
  const created: CreateAccountInput[] = [];
  const updated: { id: string; input: UpdateAccountInput }[] = [];
  const accounts = {
    resolve: async (idOrName: string) => {
      const record = records.find((r) => r.id === idOrName || r.name === idOrName);
      if (record === undefined) {
        throw new AccountsException(AccountsExceptionCode.ACCOUNT_NOT_FOUND, 'no such account');
      }
      return record;
    },
    create: async (input: CreateAccountInput) => {
      created.push(input);
      return { id: 'new-id', name: input.name };
    },
    update: async (id: string, input: UpdateAccountInput) => {
      updated.push({ id, input });
      return { id, name: input.name ?? 'kept' };
    },
  } as unknown as AccountsService;
  const repository = {
    findByName: async (name: string) => records.find((r) => r.name === name),
  } as unknown as AccountsRepository;
  const codec = {
    openProxy: (record: AccountRecord) => (record.proxy === null ? null : 'http://proxy.test:8080'),
    subscription: () => null,
    hostPolicy: { refusal: () => null },
  } as unknown as AccountCodec;
  const config = new ConfigService(new EnvironmentSchema());
  const service = new CodexOAuthLoginService(
    accounts,
    repository,
    codec,
    tokenClient,
    config,
    coordinator,
    { now },
  );
  return {
    service,
    coordinator,
    exchanges,
    records,
    created,
    updated,
    setAnswer: (next: TokenCallResult) => {
      answer = next;
    },
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<CodexOAuthException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CodexOAuthException) return error;
    throw error;
  }
  throw new Error('expected a CodexOAuthException');
}

describe(CodexOAuthLoginService.name, () => {
  beforeAll(() => {
    setLogLevel(process.env.LOG_LEVEL ?? 'silent');
  });

  describe('authorize', () => {
    it('should keep the PKCE verifier under the state for ten minutes', async () => {
      const { service, coordinator, advance } = setup();

      const started = await service.authorize();

      const url = new URL(started.authorizeUrl);
      expect(`${url.origin}${url.pathname}`).toBe('https://auth.openai.com/oauth/authorize');
      expect(url.searchParams.get('client_id')).toBe('app_EMoamEEZ73f0CkXaXp7hrann');
      expect(url.searchParams.get('state')).toBe(started.state);
      expect(started.redirectUri).toBe('http://localhost:1455/auth/callback');
      expect(started.expiresAt).toBe(new Date(1_800_000_000_000 + 600_000).toISOString());
      const stored = JSON.parse((await coordinator.getValue(codexOAuthKeys.login(started.state)))!);
      expect(stored.redirectUri).toBe(started.redirectUri);
      expect(url.searchParams.get('code_challenge')).not.toBe(stored.codeVerifier);

      advance(600_001);
      await expect(coordinator.getValue(codexOAuthKeys.login(started.state))).resolves.toBeNull();
    });
  });

  describe('exchange', () => {
    async function started(s: ReturnType<typeof setup>): Promise<string> {
      return (await s.service.authorize()).state;
    }

    it('should exchange a pasted callback URL with the verifier and create the account', async () => {
      const s = setup();
      const state = await started(s);
      const verifier = JSON.parse(
        (await s.coordinator.getValue(codexOAuthKeys.login(state)))!,
      ).codeVerifier;

      await s.service.exchange({
        state,
        callbackUrl: `http://localhost:1455/auth/callback?code=ac-1&state=${state}`,
      });

      // A new account has no id yet: its login is traced under `all` only.
      expect(s.exchanges).toEqual([
        { code: 'ac-1', codeVerifier: verifier, proxy: null, tracedAccount: null },
      ]);
      expect(s.created).toEqual([
        {
          name: 'dev@example.com',
          type: 'codex-oauth',
          credentials: {
            type: 'codex-oauth',
            accessToken: 'at-1',
            refreshToken: 'rt-1',
            idToken: ID_TOKEN,
            accountId: 'acct-1',
          },
          proxy: null,
          subscription: { plan: 'pro', email: 'dev@example.com', organizationUuid: 'acct-1' },
        },
      ]);
      // Finished once: the state is gone.
      const again = await failure(s.service.exchange({ state, code: 'ac-1' }));
      expect(again.code).toBe(CodexOAuthExceptionCode.LOGIN_NOT_FOUND);
    });

    it('should refuse a callback URL of another login before spending the code', async () => {
      const s = setup();
      const state = await started(s);

      const error = await failure(
        s.service.exchange({
          state,
          callbackUrl: 'http://localhost:1455/auth/callback?code=ac-1&state=someone-elses-state',
        }),
      );

      expect(error.code).toBe(CodexOAuthExceptionCode.STATE_MISMATCH);
      expect(error.status).toBe(400);
      expect(s.exchanges).toEqual([]);
    });

    it("should report the sign-in's own error, in Codex's words for a workspace without Codex", async () => {
      const s = setup();
      const state = await started(s);

      const error = await failure(
        s.service.exchange({
          state,
          callbackUrl: `http://localhost:1455/auth/callback?error=access_denied&error_description=missing_codex_entitlement&state=${state}`,
        }),
      );

      expect(error.code).toBe(CodexOAuthExceptionCode.LOGIN_DENIED);
      expect(error.message).toContain('Codex is not enabled for this ChatGPT workspace');
    });

    it.each<[string, Omit<CodexExchangeInput, 'state'>, CodexOAuthExceptionCode]>([
      ['neither code nor URL', {}, CodexOAuthExceptionCode.INVALID_CALLBACK],
      [
        'both code and URL',
        { code: 'c', callbackUrl: 'code=c' },
        CodexOAuthExceptionCode.INVALID_REQUEST,
      ],
      [
        'a URL without a code',
        { callbackUrl: 'http://localhost:1455/auth/callback' },
        CodexOAuthExceptionCode.INVALID_CALLBACK,
      ],
      ['a code with spaces', { code: 'two words' }, CodexOAuthExceptionCode.INVALID_CALLBACK],
      [
        'text that is no URL',
        { callbackUrl: 'just text' },
        CodexOAuthExceptionCode.INVALID_CALLBACK,
      ],
      [
        'accountId with a proxy',
        { code: 'c', accountId: 'a', proxy: 'http://p:1' },
        CodexOAuthExceptionCode.INVALID_REQUEST,
      ],
    ])('should refuse %s with a 400', async (_what, input, code) => {
      const s = setup();
      const state = await started(s);

      const error = await failure(s.service.exchange({ state, ...input }));

      expect({ code: error.code, status: error.status }).toEqual({ code, status: 400 });
      expect(s.exchanges).toEqual([]);
    });

    it('should refuse an unknown, malformed or expired state', async () => {
      const s = setup();
      const state = await started(s);
      s.advance(600_001);

      for (const candidate of [state, 'x'.repeat(43), 'bad}{state-bad}{state']) {
        const error = await failure(s.service.exchange({ state: candidate, code: 'ac' }));
        expect(error.code).toBe(CodexOAuthExceptionCode.LOGIN_NOT_FOUND);
      }
      expect(s.exchanges).toEqual([]);
    });

    it('should keep the login after a refused code, so the right one can still be pasted', async () => {
      const s = setup();
      const state = await started(s);
      s.setAnswer({
        ok: false,
        reason: 'refused',
        status: 400,
        detail: 'token endpoint answered 400: invalid_grant',
      });

      const refused = await failure(s.service.exchange({ state, code: 'typo' }));
      s.setAnswer({ ok: false, reason: 'unavailable', detail: 'token endpoint unreachable' });
      const unavailable = await failure(s.service.exchange({ state, code: 'ac-1' }));
      s.setAnswer({ ok: true, body: { access_token: 'at', id_token: ID_TOKEN } });
      await s.service.exchange({ state, code: 'ac-1' });

      expect(refused.code).toBe(CodexOAuthExceptionCode.TOKEN_EXCHANGE_REFUSED);
      expect(refused.status).toBe(400);
      expect(refused.message).toContain('invalid_grant');
      expect(unavailable.code).toBe(CodexOAuthExceptionCode.TOKEN_ENDPOINT_UNAVAILABLE);
      expect(unavailable.status).toBe(502);
      expect(s.exchanges.map((e) => e.code)).toEqual(['typo', 'ac-1', 'ac-1']);
      expect(s.created).toHaveLength(1);
    });

    it('should refuse a second exchange of a login while the first runs', async () => {
      const s = setup();
      const state = await started(s);
      const held = await s.coordinator.acquireLock(codexOAuthKeys.loginLock(state), 60_000);

      const error = await failure(s.service.exchange({ state, code: 'ac' }));

      expect(error.code).toBe(CodexOAuthExceptionCode.LOGIN_BUSY);
      expect(error.status).toBe(409);
      await s.coordinator.releaseLock(held!);
    });

    it('should answer TOKENS_INCOMPLETE when the tokens name no ChatGPT account', async () => {
      const s = setup();
      const state = await started(s);
      s.setAnswer({ ok: true, body: { access_token: 'opaque', id_token: jwt({ email: 'e' }) } });

      const error = await failure(s.service.exchange({ state, code: 'ac' }));

      expect(error.code).toBe(CodexOAuthExceptionCode.TOKENS_INCOMPLETE);
      expect(s.created).toEqual([]);
    });

    it("should replace an existing account's credentials through its proxy", async () => {
      const s = setup();
      s.records.push({ id: 'acc-9', name: 'team', type: 'codex-oauth', proxy: 'sealed' } as never);
      const state = await started(s);

      await s.service.exchange({ state, code: 'ac', accountId: 'team' });

      expect(s.exchanges[0]?.proxy).toBe('http://proxy.test:8080');
      // DEBUG_HTTP_TRAFFIC=account:acc-9 shows this login's exchange.
      expect(s.exchanges[0]?.tracedAccount).toBe('acc-9');
      expect(s.updated).toEqual([
        {
          id: 'acc-9',
          input: {
            credentials: {
              accessToken: 'at-1',
              accountId: 'acct-1',
              refreshToken: 'rt-1',
              idToken: ID_TOKEN,
              expiresAt: null,
            },
            subscription: { plan: 'pro', email: 'dev@example.com', organizationUuid: 'acct-1' },
          },
        },
      ]);
    });

    it('should refuse to update an account of another type before spending the code', async () => {
      const s = setup();
      s.records.push({ id: 'c-1', name: 'console', type: 'claude-console', proxy: null } as never);
      const state = await started(s);

      const error = await failure(s.service.exchange({ state, code: 'ac', accountId: 'c-1' }));

      expect(error.code).toBe(CodexOAuthExceptionCode.NOT_A_CODEX_ACCOUNT);
      expect(s.exchanges).toEqual([]);
    });

    it('should refuse a taken name before spending the code, and number default names', async () => {
      const s = setup();
      s.records.push({ id: 'x', name: 'dev@example.com', type: 'codex-oauth' } as never);
      const state = await started(s);

      await expect(
        s.service.exchange({ state, code: 'ac', name: 'dev@example.com' }),
      ).rejects.toMatchObject({ code: AccountsExceptionCode.NAME_TAKEN });
      expect(s.exchanges).toEqual([]);

      await s.service.exchange({ state, code: 'ac' });
      expect(s.created[0]?.name).toBe('dev@example.com-2');
    });
  });
});
