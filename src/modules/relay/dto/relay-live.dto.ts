/** What the relay is doing right now, on the instance that answered. */
export class RelayLiveDto {
  /** When the counts were read. */
  at!: string;
  /** The instance that answered (INSTANCE_ID, or host, pid and a random suffix). */
  instance!: string;
  /** Relay requests in flight on this instance. */
  inFlight!: number;
  /** The streamed requests among them. */
  streams!: number;
}
