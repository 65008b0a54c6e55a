import type { Dispatcher } from 'undici'
import { isRatesError } from '../domain/errors.js'
import type { SourceHealth } from '../domain/health.js'
import type { Quote } from '../domain/rate.js'
import type { SourceId } from '../domain/sources.js'
import { withDeadline } from '../sources/deadline.js'
import { createResponseCache } from '../sources/source.js'
import type { ResponseCache, Source } from '../sources/source.js'

export type { SourceHealth }

// Node turns a longer delay into 1 ms (with a warning): a huge interval would poll in a tight loop
const MAX_TIMER_MS = 2 ** 31 - 1

export interface PollOutcome {
  source: SourceId
  quotes: Quote[]
  /** Every URL of the source answered 304 and its cached body was reused. */
  fetchedAt: Date
  durationMs: number
}

export interface PollFailure {
  source: SourceId
  error: { code: string, message: string, upstreamStatus?: number }
  consecutiveFailures: number
  retryInMs: number
  durationMs: number
}

export interface PollerLog {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

export interface PollerOptions {
  sources: Source[]
  dispatcher: Dispatcher
  intervalMs: number
  /** Deadline of one upstream request; a whole poll (at most two requests) ends within twice it. */
  timeoutMs: number
  maxBytes: number
  userAgent: string
  onQuotes: (outcome: PollOutcome) => void | Promise<void>
  onFailure?: (failure: PollFailure) => void
  log: PollerLog
  /** First retry delay after a failure; doubles up to the poll interval. */
  retryBaseMs?: number
  now?: () => Date
  random?: () => number
}

export interface Poller {
  start: () => void
  stop: () => Promise<void>
  health: () => SourceHealth[]
  running: () => boolean
}

/** One loop per source: jittered interval, backoff on failure, per-source health, one log line per outcome. */
export function createPoller (opts: PollerOptions): Poller {
  const now = opts.now ?? (() => new Date())
  const random = opts.random ?? Math.random
  const retryBaseMs = opts.retryBaseMs ?? Math.max(50, Math.min(5_000, Math.round(opts.intervalMs / 10)))
  const health = new Map<SourceId, SourceHealth>(opts.sources.map((s) => [s.id, {
    id: s.id, ok: false, lastSuccessAt: null, lastErrorAt: null, lastError: null, lastErrorCode: null, consecutiveFailures: 0
  }]))
  const caches = new Map<SourceId, ResponseCache>(opts.sources.map((s) => [s.id, createResponseCache()]))
  const deadlineMs = Math.min(MAX_TIMER_MS, opts.timeoutMs * 2)
  const timers = new Set<NodeJS.Timeout>()
  const inFlight = new Set<Promise<void>>()
  let controller: AbortController | undefined

  // ±10 % so that many instances or sources never fall into lockstep
  const jitter = (ms: number): number => Math.min(MAX_TIMER_MS, Math.round(ms * (0.9 + random() * 0.2)))

  function schedule (source: Source, delayMs: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer)
      const run = pollOnce(source).finally(() => inFlight.delete(run))
      inFlight.add(run)
    }, delayMs)
    timers.add(timer)
  }

  async function pollOnce (source: Source): Promise<void> {
    const signal = controller?.signal
    if (signal === undefined || signal.aborted) return
    const started = Date.now()
    const h = health.get(source.id) as SourceHealth
    try {
      const quotes = await withDeadline(source.id, signal, deadlineMs, async (pollSignal) => await source.fetchQuotes({
        dispatcher: opts.dispatcher,
        signal: pollSignal,
        now: now(),
        cache: caches.get(source.id) as ResponseCache,
        userAgent: opts.userAgent,
        timeoutMs: opts.timeoutMs,
        maxBytes: opts.maxBytes
      }))
      if (signal.aborted) return
      const fetchedAt = now()
      Object.assign(h, { ok: true, lastSuccessAt: fetchedAt.toISOString(), consecutiveFailures: 0 })
      const durationMs = Date.now() - started
      const dates = [...new Set(quotes.map((q) => q.date))].sort()
      opts.log.info({ source: source.id, quotes: quotes.length, dates, durationMs }, 'source poll succeeded')
      await opts.onQuotes({ source: source.id, quotes, fetchedAt, durationMs })
      schedule(source, jitter(opts.intervalMs))
    } catch (err) {
      if (signal.aborted) return
      const error = describe(err)
      h.consecutiveFailures++
      Object.assign(h, { ok: false, lastErrorAt: now().toISOString(), lastError: error.message })
      h.lastErrorCode = error.code
      const retryInMs = jitter(Math.min(opts.intervalMs, retryBaseMs * 2 ** Math.min(h.consecutiveFailures - 1, 16)))
      const failure = { source: source.id, error, consecutiveFailures: h.consecutiveFailures, retryInMs, durationMs: Date.now() - started }
      // one line per failed poll, without a stack: a source down for a day is a few hundred short lines
      opts.log.warn(failure, 'source poll failed')
      opts.onFailure?.(failure)
      schedule(source, retryInMs)
    }
  }

  return {
    start () {
      if (controller !== undefined && !controller.signal.aborted) return
      controller = new AbortController()
      for (const source of opts.sources) schedule(source, Math.round(random() * Math.min(250, opts.intervalMs / 10)))
    },
    async stop () {
      controller?.abort()
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      await Promise.allSettled([...inFlight])
    },
    health: () => [...health.values()].map((h) => ({ ...h })),
    running: () => controller !== undefined && !controller.signal.aborted
  }
}

function describe (err: unknown): PollFailure['error'] {
  if (isRatesError(err)) {
    return { code: err.code, message: err.message, ...(err.upstreamStatus !== undefined && { upstreamStatus: err.upstreamStatus }) }
  }
  if (err instanceof Error) return { code: (err as { code?: string }).code ?? err.name, message: err.message }
  return { code: 'UNKNOWN', message: String(err) }
}
