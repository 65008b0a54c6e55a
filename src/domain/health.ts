/** What the poller knows of one source, for /readyz, /metrics and logs. */
export interface SourceHealth {
  id: string
  ok: boolean
  lastSuccessAt: string | null
  lastErrorAt: string | null
  lastError: string | null
  /** The code of the last failure (a RATES_* code, or the transport's own): what may be shown to anyone. */
  lastErrorCode: string | null
  consecutiveFailures: number
}
