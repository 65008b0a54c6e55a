import type { Archive, SourceArchive } from '../domain/archive.js'
import { addDays, civilDate } from '../domain/dates.js'
import { isRatesError } from '../domain/errors.js'
import type { Fixing } from '../domain/rate.js'
import { SOURCE_INFO } from '../domain/sources.js'
import type { SourceId } from '../domain/sources.js'
import type { Source } from '../sources/source.js'
import { isDatedSource, isRangeSource } from '../sources/url-source.js'
import type { SnapshotState } from '../store/store.js'
import { MAX_CARRY_DAYS, isKnown, nextUnknown, pruneBefore, recordSpan, sourceArchiveOf, unknownSince } from './archive.js'
import { createArchiveFetcher } from './fetch-archive.js'
import type { ArchiveFetchOptions, ArchiveSource } from './fetch-archive.js'
import { createPacer } from './pace.js'
import { pickFixings } from './pick.js'

export interface BackfillLog {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export interface BackfillOptions extends ArchiveFetchOptions {
  /** The enabled sources; those without an archive (dated, or a range at once) are left out. */
  sources: readonly Source[]
  state: SnapshotState
  currencies: readonly string[]
  outlierPct: number
  /** FX_HISTORY_DAYS: how many days back, today included. */
  days: number
  /** FX_HISTORY_PACE_MS: the least time between two requests to one source. */
  paceMs: number
  log: BackfillLog
  /** After fixings were stored: reconcile again, so `change` follows the previous fixing. */
  onHistory?: () => void
  /** Called per archive request with `ok`, `none` (no publication that day) or the failure's code. */
  onRequest?: (source: SourceId, outcome: string) => void
  /** Between two passes while leading: a pass asks only what is still missing (default 1 h). */
  passEveryMs?: number
  /** A source's pass ends after this many failures in a row; its dates are asked again next pass (default 3). */
  maxFailures?: number
  /** Progress is stored at most this often while a pass runs (default 1 s). */
  flushMs?: number
}

export interface Backfill {
  /** Runs passes until stopped: the first at once, then every passEveryMs. */
  start: () => void
  /** Stops after the requests in flight; resolves once the progress so far is stored. */
  stop: () => Promise<void>
  /** True once a first pass has ended (or there is nothing to backfill): what the archives had is stored. */
  done: () => boolean
  /** Resolves when no pass is running (tests; a pass may start again later). */
  idle: () => Promise<void>
}

/** Fetches the missing fixings of the last `days` days from the dated archives, politely, newest first. */
export function createBackfill (opts: BackfillOptions): Backfill {
  const { state, now, log } = opts
  const dated = opts.sources.filter((s): s is ArchiveSource => isDatedSource(s) || isRangeSource(s))
  const maxFailures = opts.maxFailures ?? 3
  const pacer = createPacer(opts.paceMs)
  const fetchSpan = createArchiveFetcher(opts)
  let working: Archive = {}
  const changed = new Set<string>()
  const dirtyDates = new Set<string>()
  let stopper = new AbortController()
  let running: Promise<void> | undefined
  let flushing: Promise<void> = Promise.resolve()
  let flushTimer: NodeJS.Timeout | undefined
  let passTimer: NodeJS.Timeout | undefined
  let passes = 0
  /** Per source in the running pass: the dates asked (answered or not), and whether its pass has ended. */
  const progress = new Map<string, { tried: Set<string>, done: boolean }>()

  let firstPassDone = opts.days === 0 || dated.length === 0

  const archiveOf = (id: string): SourceArchive => sourceArchiveOf(working, id)

  async function work (source: ArchiveSource, first: boolean): Promise<void> {
    const today = civilDate(now(), SOURCE_INFO[source.id].utcOffsetHours)
    const from = addDays(today, -(opts.days - 1))
    // after the first pass the live poll follows today; an archive's today is never final anyway
    const tried = new Set<string>(first ? [] : [today])
    const mine = { tried, done: false }
    progress.set(source.id, mine)
    let failures = 0
    while (!stopper.signal.aborted && failures < maxFailures) {
      const to = nextUnknown(archiveOf(source.id), from, today, tried)
      if (to === undefined) break
      const start = isRangeSource(source) ? unknownSince(archiveOf(source.id), to, from, tried) : to
      for (let d = start; d <= to; d = addDays(d, 1)) tried.add(d)
      await pacer.wait(source.id, stopper.signal)
      if (stopper.signal.aborted) break
      try {
        const quotes = await fetchSpan(source, start, to, stopper.signal).finally(() => { pacer.done(source.id) })
        failures = 0
        opts.onRequest?.(source.id, quotes.length === 0 ? 'none' : 'ok')
        const final = to < today ? to : addDays(today, -1)
        working = { ...working, [source.id]: recordSpan(archiveOf(source.id), start, to, quotes, final) }
        changed.add(source.id)
        const valueDate = quotes.reduce((d, q) => (q.date < d ? q.date : d), start)
        for (let d = valueDate; d <= addDays(to, MAX_CARRY_DAYS); d = addDays(d, 1)) dirtyDates.add(d)
        scheduleFlush()
      } catch (err) {
        if (stopper.signal.aborted) break
        failures++
        const code = isRatesError(err) ? err.code : 'RATES_SOURCE_HTTP'
        opts.onRequest?.(source.id, code)
        log.warn({ source: source.id, from: start, to, code, err: (err as Error).message }, 'archive request failed; asked again next pass')
      }
    }
    mine.done = true
  }

  /**
   * A date is reconciled once every archive has had its say on it: answered, failed, or its pass over.
   * Before that a missing home bank would look like a day it did not publish.
   */
  const settled = (date: string): boolean => dated.every((s) => {
    const p = progress.get(s.id)
    return p === undefined || p.done || p.tried.has(date) || isKnown(archiveOf(s.id), date)
  })

  function scheduleFlush (): void {
    if (flushTimer !== undefined) return
    flushTimer = setTimeout(() => { flushTimer = undefined; flushNow().catch(() => {}) }, opts.flushMs ?? 1000)
  }

  /** Stores the changed archives and the fixings their new answers make; one store write at a time. */
  function flushNow (): Promise<void> {
    clearTimeout(flushTimer)
    flushTimer = undefined
    const run = flushing.then(async () => {
      if (changed.size === 0 && dirtyDates.size === 0) return
      const archive = Object.fromEntries([...changed].map((id) => [id, archiveOf(id)]))
      const dates = [...dirtyDates].filter(settled).sort()
      changed.clear()
      for (const d of dates) dirtyDates.delete(d)
      const fixings = pickFixings(working, dates, { currencies: opts.currencies, outlierPct: opts.outlierPct }, state)
      try {
        await state.saveArchive({ archive, fixings })
      } catch (err) {
        // kept for the next flush: nothing answered is lost while the store is away
        for (const id of Object.keys(archive)) changed.add(id)
        for (const d of dates) dirtyDates.add(d)
        log.error({ err }, 'backfill progress not stored; retried with the next answer')
        return
      }
      if (countOf(fixings) > 0) {
        log.info({ fixings: countOf(fixings), dates: [dates[0], dates.at(-1)] }, 'history backfilled')
        opts.onHistory?.()
      }
    })
    flushing = run.catch(() => {})
    return run
  }

  async function pass (): Promise<void> {
    const first = passes++ === 0
    // a day of margin before the window of every zone's calendar
    const from = addDays(civilDate(now(), 0), -opts.days)
    // the store is read afresh (another leader may have written), answers not yet stored are kept
    working = { ...state.archive(), ...Object.fromEntries([...changed].map((id) => [id, archiveOf(id)])) }
    for (const [id, entry] of Object.entries(working)) {
      const pruned = pruneBefore(entry, from)
      if (pruned !== entry) {
        working[id] = pruned
        changed.add(id)
      }
    }
    const started = Date.now()
    await Promise.all(dated.map(async (s) => { await work(s, first) }))
    await flushNow()
    firstPassDone = true
    log.info({ sources: dated.map((s) => s.id), durationMs: Date.now() - started }, 'backfill pass done')
    // a snapshot held back for its changes need not wait any longer
    opts.onHistory?.()
  }

  const loop = (): void => {
    if (stopper.signal.aborted) return
    running = pass().catch((err: unknown) => { log.error({ err }, 'backfill pass failed') }).finally(() => {
      running = undefined
      if (stopper.signal.aborted) return
      passTimer = setTimeout(loop, opts.passEveryMs ?? 3_600_000)
      passTimer.unref()
    })
  }

  return {
    start () {
      if (opts.days === 0 || dated.length === 0 || running !== undefined || passTimer !== undefined) return
      stopper = new AbortController()
      loop()
    },
    async stop () {
      stopper.abort()
      clearTimeout(passTimer)
      passTimer = undefined
      await running
      await flushNow()
    },
    done: () => firstPassDone,
    idle: async () => { await running }
  }
}

function countOf (fixings: Record<string, Fixing[]>): number {
  return Object.values(fixings).reduce((n, list) => n + list.length, 0)
}
