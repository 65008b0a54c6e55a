// When the hub tells its clients to come back. The hint's wire form is the protocol's (domain/protocol.ts);
// its value is spread, so that clients dropped at the same moment do not all return at the same moment.

/** A uniform whole number of milliseconds in [min, max]: spreads reconnects of many clients over time. */
export function jitter (min: number, max: number, random: () => number = Math.random): number {
  const lo = Math.min(min, max)
  return lo + Math.floor(random() * (Math.max(min, max) - lo + 1))
}

/** The reconnect hint sent on shutdown: [1 s, shutdownRetryMs], or [max/2, max] for small test values. */
export function shutdownHint (shutdownRetryMs: number, random?: () => number): number {
  return jitter(Math.min(1000, Math.floor(shutdownRetryMs / 2)), shutdownRetryMs, random)
}
