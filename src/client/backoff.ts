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

/** The longest server hint honoured, so a garbled reason cannot park a client for days. */
export const MAX_HINT_MS = 10 * 60_000

/**
 * The server's retry hint from a close (`restart; retry in 12345 ms`), sent with 1012 (restart) and
 * 1013 (try again later); undefined for other codes or reasons.
 */
export function retryHint (code: number, reason: string): number | undefined {
  if (code !== 1012 && code !== 1013) return undefined
  const m = /retry in (\d{1,9}) ms/.exec(reason)
  return m === null ? undefined : Math.min(Number(m[1]), MAX_HINT_MS)
}
