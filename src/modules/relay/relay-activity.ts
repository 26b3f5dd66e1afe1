import { Gauge, type Registry } from 'prom-client';

/**
 * Relay requests in flight on this instance (from their first byte until they are settled), and
 * the streamed ones among them. Plain counters on the event loop: each instance counts its own;
 * the admin API's live view and the Prometheus gauges report this instance's.
 */
export class RelayActivity {
  private requests = 0;
  private streams = 0;

  /** Requests in flight now. */
  get inFlight(): number {
    return this.requests;
  }

  /** Requests in flight now that asked for a stream. */
  get streaming(): number {
    return this.streams;
  }

  /** A request arrived; call leave() once when it is over. */
  enter(): void {
    this.requests += 1;
  }

  /** The request in flight asked for a stream (at most once per request). */
  enterStream(): void {
    this.streams += 1;
  }

  /** The request is over; `streamed` when enterStream() was called for it. */
  leave(streamed: boolean): void {
    this.requests = Math.max(0, this.requests - 1);
    if (streamed) this.streams = Math.max(0, this.streams - 1);
  }

  /** Reports both counts as gauges, read at each scrape. */
  register(registry: Registry): void {
    const inFlight = (): number => this.requests;
    const streaming = (): number => this.streams;
    new Gauge({
      name: 'switchyard_relay_requests_in_flight',
      help: 'Relay requests in flight on this instance',
      registers: [registry],
      collect() {
        this.set(inFlight());
      },
    });
    new Gauge({
      name: 'switchyard_relay_streams_in_flight',
      help: 'Streamed relay requests in flight on this instance',
      registers: [registry],
      collect() {
        this.set(streaming());
      },
    });
  }
}
