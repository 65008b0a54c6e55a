/** What the poller knows of one source, for /readyz, /metrics and logs. */
export interface SourceHealth {
  id: string
  ok: boolean
  lastSuccessAt: string | null
  lastErrorAt: string | null
  lastError: string | null
  consecutiveFailures: number
}
