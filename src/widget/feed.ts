import type { Rate } from '../domain/rate.js'
import { createTickerClient } from '../client/client.js'
import type { TickerClient } from '../client/client.js'
import { transport } from './transport.js'

/** What a ticker hears on every change of the page's connection: every rate held, and whether the link is up. */
export type Listener = (rates: Rate[], live: boolean) => void

interface Feed {
  listeners: Set<Listener>
  /** The union of the tickers' symbols; undefined once one of them wants every currency. */
  symbols: Set<string> | undefined
  client?: TickerClient
  live: boolean
}

// one connection and one subscription set per service on the page, whatever the number of tickers
const feeds = new Map<string, Feed>()

/**
 * Adds a ticker to the page's connection to the service at `base` (ending in `/`), widening its
 * subscription to `symbols` (all when empty). `retry` is the backoff unit in ms, `poll` the polling
 * period once polling is the transport; the first ticker's values hold. Returns the function that leaves.
 */
export function join (base: string, symbols: string[], retry: number, poll: number, listener: Listener): () => void {
  let f = feeds.get(base) as Feed
  const rates = (): Rate[] => f.client?.rates() ?? []
  if (f === undefined) {
    const feed: Feed = f = { listeners: new Set(), symbols: new Set(), live: false }
    feeds.set(base, f)
    // tickers upgraded together all join before it connects, so the first URL asks for all their symbols
    queueMicrotask(() => {
      if (feeds.get(base) !== feed) return
      feed.client = createTickerClient({
        url: base.replace(/^http/, 'ws') + 'v1/ws',
        ...(feed.symbols !== undefined && { symbols: [...feed.symbols] }),
        WebSocket: transport(poll),
        backoff: { initialMs: retry, maxMs: 30 * retry },
        heartbeatTimeoutMs: Math.max(62_500, 2.5 * poll),
        // called on every message (its seq) and every change of the connection
        onStatus (s) {
          feed.live = s.connection === 'open'
          for (const l of feed.listeners) l(rates(), feed.live)
        }
      })
    })
  }
  const before = f.symbols
  f.symbols = symbols.length === 0 || before === undefined ? undefined : new Set([...before, ...symbols])
  if (f.symbols?.size !== before?.size) f.client?.subscribe([...f.symbols ?? []])
  f.listeners.add(listener)
  listener(rates(), f.live)
  return () => {
    f.listeners.delete(listener)
    if (f.listeners.size > 0) return
    f.client?.close()
    feeds.delete(base)
  }
}
