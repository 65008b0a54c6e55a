import type { Rate } from '../domain/rate.js'
import { openLink } from '../client/link.js'
import type { Link } from '../client/link.js'
import { history } from './sparks.js'
import type { Spark } from './sparks.js'
import { transport } from './transport.js'

/** What a ticker hears on every change of the page's connection: every rate held, whether the link is up, the sparklines. */
export type Listener = (rates: Rate[], live: boolean, spark: Spark | undefined) => void

type Enter = (symbols: string[], spark: boolean, listener: Listener) => () => void

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
  let client: Link | undefined
  let live = false
  // set once a ticker wants sparklines, so that no other ticker costs a history request
  let extend: ((rates: Rate[]) => Spark) | undefined
  let spark: Spark | undefined
  const rates = (): Rate[] => client?.rates() ?? []
  const tell = (): void => {
    if (extend) spark = extend(rates())
    for (const l of listeners) l(rates(), live, spark)
  }
  // tickers upgraded together all join before it connects, so the first URL asks for all their symbols;
  // if they all left already, it never connects
  queueMicrotask(() => {
    if (listeners.size === 0) return
    client = openLink({
      url: base.replace(/^http/, 'ws') + 'v1/ws',
      ...(wanted !== undefined && { symbols: [...wanted] }),
      WebSocket: transport(poll),
      backoff: { initialMs: retry, maxMs: 30 * retry },
      heartbeatTimeoutMs: Math.max(62_500, 2.5 * poll),
      // called on every message (its seq) and every change of the connection
      onStatus (s) {
        live = s.connection === 'open'
        tell()
      }
    })
  })
  return (symbols, wants, listener) => {
    const before = wanted
    wanted = symbols.length === 0 || before === undefined ? undefined : new Set([...before, ...symbols])
    if (wanted?.size !== before?.size) client?.subscribe([...wanted ?? []])
    listeners.add(listener)
    if (wants && !extend) {
      extend = history(base, tell)
      tell()
    } else listener(rates(), live, spark)
    return () => {
      listeners.delete(listener)
      if (listeners.size > 0) return
      client?.close()
      delete feeds[base]
    }
  }
}
