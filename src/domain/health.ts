import { z } from 'zod'

/** What the poller knows of one source, for /readyz, /metrics and logs. */
export const SourceHealthSchema = z.object({
  id: z.string(),
  ok: z.boolean(),
  lastSuccessAt: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  lastError: z.string().nullable(),
  /** The code of the last failure (a RATES_* code, or the transport's own): what may be shown to anyone. */
  lastErrorCode: z.string().nullable(),
  consecutiveFailures: z.number().int()
})
export type SourceHealth = z.infer<typeof SourceHealthSchema>

const s = SourceHealthSchema.shape
/** What /readyz shows of a source: `error` is a public code; the error text stays in the logs. */
export const PublicSourceHealthSchema = z.object({
  id: s.id,
  ok: s.ok,
  lastSuccessAt: s.lastSuccessAt,
  lastErrorAt: s.lastErrorAt,
  error: s.lastErrorCode,
  consecutiveFailures: s.consecutiveFailures
})
export type PublicSourceHealth = z.infer<typeof PublicSourceHealthSchema>
