import { ProxyAgent, Socks5ProxyAgent, type Dispatcher } from 'undici';

/**
 * An undici dispatcher that sends through the given proxy URL (http, https or socks5).
 * OAuthModule binds it to the shared upstream pools (`UpstreamHttp.dispatcherFor`), so token
 * refreshes leave through the account's proxy like its relay traffic; without a binding (tests
 * constructing a refresher by hand) a refresher opens a short-lived agent per refresh.
 */
export type AccountDispatcherFactory = (proxyUrl: string) => Dispatcher;

export const ACCOUNT_DISPATCHER_FACTORY = Symbol('ACCOUNT_DISPATCHER_FACTORY');

/**
 * The dispatcher of one call through `proxyUrl` (null: direct): the shared pool's when a factory
 * is bound, else a short-lived agent that `close` ends after the call.
 */
export function proxiedDispatcher(
  proxyUrl: string | null,
  factory: AccountDispatcherFactory | undefined,
): { dispatcher: Dispatcher | undefined; close: () => Promise<void> } {
  if (proxyUrl === null) return { dispatcher: undefined, close: () => Promise.resolve() };
  const shared = factory?.(proxyUrl);
  if (shared !== undefined) return { dispatcher: shared, close: () => Promise.resolve() };
  const temporary =
    new URL(proxyUrl).protocol === 'socks5:'
      ? new Socks5ProxyAgent(proxyUrl)
      : new ProxyAgent({ uri: proxyUrl, proxyTunnel: true });
  return { dispatcher: temporary, close: () => temporary.close().catch(() => undefined) };
}
