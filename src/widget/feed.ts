import type { Fixing, Rate } from '../domain/rate.js'
import { createTickerClient } from '../client/client.js'
import type { TickerClient } from '../client/client.js'
import { transport } from './transport.js'

/**
 * A sparkline's points per base, oldest first: a new object when history arrives; a live rate changes
 * its base's points in place, and tickers redraw on the rate itself.
 */
export type Spark = Record<string, Array<Pick<Fixing, 'date' | 'price' | 'inverse'>>>

/** What a ticker hears on every change of the page's connection: every rate held, whether the link is up, the sparklines. */
export type Listener = (rates: Rate[], live: boolean, spark: Spark | undefined) => void

type Enter = (symbols: string[], spark: boolean, listener: Listener) => () => void

// how many fixings a sparkline shows (45 days of history hold them across weekends and holidays)
const POINTS = 30

// one connection and one subscription set per service on the page, whatever the number of tickers
const feeds: Record<string, Enter> = {}

/**
 * Adds a ticker to the page's connection to the service at `base` (ending in `/`), widening its
 * subscription to `symbols` (all when empty); with `spark`, the page loads sparklines' history once per
 * base. `retry` is the backoff unit in ms, `poll` the polling period once polling is the transport; the
 * first ticker's values hold. Returns the function that leaves.
 */
export function join (base: string, symbols: string[], spark: boolean, retry: number, poll: number, listener: Listener): () => void {
  return (feeds[base] ??= open(base, retry, poll))(symbols, spark, listener)
}

function open (base: string, retry: number, poll: number): Enter {
  const listeners = new Set<Listener>()
  // the union of the tickers' symbols; undefined once one of them wants every currency
  let wanted: Set<string> | undefined = new Set()
  let client: TickerClient | undefined
  let live = false
  // undefined until a ticker wants sparklines, so that no other ticker costs a history request;
  // a base asked for and not (yet) answered has no points
  let spark: Spark | undefined
  const rates = (): Rate[] => client?.rates() ?? []
  const tell = (): void => {
    for (const l of listeners) l(rates(), live, spark)
  }
  // a rate of a newer date than the last point adds a point (the oldest leaves), the same date replaces it
  const extend = (): void => {
    if (spark === undefined) return
    // marked as asked (no points) as they are listed
    const missing = rates().map((r) => r.base).filter((b) => !spark![b] && (spark![b] = []))
    if (missing[0]) {
      // no history (an error body has no series, offline rejects) leaves the pairs without a sparkline
      fetch(`${base}v1/history?symbols=${missing}&days=45`).then(async (res) => {
        const { series } = await res.json() as { series: Array<{ base: string, fixings: Spark[string] }> }
        spark = { ...spark }
        for (const s of series) spark[s.base] = s.fixings.slice(-POINTS)
        extend()
        tell()
      }).catch(() => {})
    }
    for (const r of rates()) {
      const points: Spark[string] | undefined = spark[r.base]
      const last: Spark[string][number] | undefined = points?.at(-1)
      if (last && r.date >= last.date) spark[r.base] = [...points!.filter((p) => p.date < r.date), r].slice(-POINTS)
    }
  }
  // tickers upgraded together all join before it connects, so the first URL asks for all their symbols;
  // if they all left already, it never connects
  queueMicrotask(() => {
    if (listeners.size === 0) return
    client = createTickerClient({
      url: base.replace(/^http/, 'ws') + 'v1/ws',
      ...(wanted !== undefined && { symbols: [...wanted] }),
      WebSocket: transport(poll),
      backoff: { initialMs: retry, maxMs: 30 * retry },
      heartbeatTimeoutMs: Math.max(62_500, 2.5 * poll),
      // called on every message (its seq) and every change of the connection
      onStatus (s) {
        live = s.connection === 'open'
        extend()
        tell()
      }
    })
  })
  return (symbols, wants, listener) => {
    const before = wanted
    wanted = symbols.length === 0 || before === undefined ? undefined : new Set([...before, ...symbols])
    if (wanted?.size !== before?.size) client?.subscribe([...wanted ?? []])
    listeners.add(listener)
    if (wants) {
      spark ??= {}
      extend()
    }
    listener(rates(), live, spark)
    return () => {
      listeners.delete(listener)
      if (listeners.size > 0) return
      client?.close()
      delete feeds[base]
    }
  }
}
