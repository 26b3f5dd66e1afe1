import type { Dispatcher } from 'undici';

/**
 * An undici dispatcher that sends through the given proxy URL (http, https or socks5).
 * OAuthModule binds it to the shared upstream pools (`UpstreamHttp.dispatcherFor`), so token
 * refreshes leave through the account's proxy like its relay traffic; without a binding (tests
 * constructing a refresher by hand) a refresher opens a short-lived agent per refresh.
 */
export type AccountDispatcherFactory = (proxyUrl: string) => Dispatcher;

export const ACCOUNT_DISPATCHER_FACTORY = Symbol('ACCOUNT_DISPATCHER_FACTORY');
