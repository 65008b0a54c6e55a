import type { Rate } from '../domain/rate.js'
import { createTickerClient } from '../client/client.js'
import type { TickerClient } from '../client/client.js'
import { transport } from './transport.js'

/** What a ticker hears on every change of the page's connection: every rate held, and whether the link is up. */
export type Listener = (rates: Rate[], live: boolean) => void

type Enter = (symbols: string[], listener: Listener) => () => void

// one connection and one subscription set per service on the page, whatever the number of tickers
const feeds: Record<string, Enter> = {}

/**
 * Adds a ticker to the page's connection to the service at `base` (ending in `/`), widening its
 * subscription to `symbols` (all when empty). `retry` is the backoff unit in ms, `poll` the polling
 * period once polling is the transport; the first ticker's values hold. Returns the function that leaves.
 */
export function join (base: string, symbols: string[], retry: number, poll: number, listener: Listener): () => void {
  return (feeds[base] ??= open(base, retry, poll))(symbols, listener)
}

function open (base: string, retry: number, poll: number): Enter {
  const listeners = new Set<Listener>()
  // the union of the tickers' symbols; undefined once one of them wants every currency
  let wanted: Set<string> | undefined = new Set()
  let client: TickerClient | undefined
  let live = false
  const rates = (): Rate[] => client?.rates() ?? []
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
        for (const l of listeners) l(rates(), live)
      }
    })
  })
  return (symbols, listener) => {
    const before = wanted
    wanted = symbols.length === 0 || before === undefined ? undefined : new Set([...before, ...symbols])
    if (wanted?.size !== before?.size) client?.subscribe([...wanted ?? []])
    listeners.add(listener)
    listener(rates(), live)
    return () => {
      listeners.delete(listener)
      if (listeners.size > 0) return
      client?.close()
      delete feeds[base]
    }
  }
}
