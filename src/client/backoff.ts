export interface BackoffOptions {
  /** Cap of the first retry; default 1 s. */
  initialMs?: number
  /** Cap of any retry; default 30 s. */
  maxMs?: number
  /** Growth of the cap per failed attempt; default 2. */
  factor?: number
}

/** Exponential backoff with full jitter: uniform in [0, min(max, initial × factor^attempt)). */
export function backoffDelay (attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialMs = 1000, maxMs = 30_000, factor = 2 } = options
  const cap = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt))
  return Math.floor(random() * cap)
}
