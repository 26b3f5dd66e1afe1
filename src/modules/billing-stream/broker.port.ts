import { connect } from 'amqplib';

/**
 * The part of an AMQP 0-9-1 client the billing publisher uses: a connection that opens confirm
 * channels, and a channel that declares an exchange and publishes with a confirm callback.
 * amqplib's ChannelModel and ConfirmChannel satisfy it as they are; unit tests pass fakes.
 */
export interface BrokerPublishOptions {
  persistent: boolean;
  messageId: string;
  type: string;
  /** Seconds since the epoch (the AMQP timestamp property). */
  timestamp: number;
  contentType: string;
  appId: string;
  headers: Record<string, string | number | boolean | null>;
}

export interface BrokerChannel {
  assertExchange(exchange: string, type: 'topic', options: { durable: boolean }): Promise<unknown>;
  /**
   * Returns false when the write buffer is full (wait for `drain`); the callback runs once the
   * broker confirmed (err null) or refused the message, or the channel closed before it did.
   */
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: BrokerPublishOptions,
    callback: (err: unknown) => void,
  ): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): Promise<void>;
}

export interface BrokerConnection {
  createConfirmChannel(): Promise<BrokerChannel>;
  on(event: 'close', listener: (err?: Error) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'blocked', listener: (reason: string) => void): unknown;
  on(event: 'unblocked', listener: () => void): unknown;
  close(): Promise<void>;
}

export interface BrokerConnectOptions {
  /** Socket connect timeout. */
  timeoutMs: number;
  /** Shown in the broker's management UI and `rabbitmqctl list_connections`. */
  connectionName: string;
}

export type BrokerConnect = (
  url: string,
  options: BrokerConnectOptions,
) => Promise<BrokerConnection>;

export const BROKER_CONNECT = Symbol('BROKER_CONNECT');

/** The real client: amqplib, without its own recovery (the publisher's loop reconnects). */
export const amqpConnect: BrokerConnect = async (url, options) =>
  connect(url, {
    timeout: options.timeoutMs,
    clientProperties: { connection_name: options.connectionName },
  });

/** The broker URL without credentials, for logs and the readiness details. */
export function brokerLabel(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'amqp://(unparsable url)';
  }
}
