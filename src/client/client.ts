import type { Rate } from '../domain/rate.js'
import type { BackoffOptions } from './backoff.js'
import { openLink } from './link.js'
import type { SocketConstructor, TickerStatus } from './link.js'

export type { SocketConstructor, SocketLike, TickerStatus } from './link.js'

export interface TickerClientOptions {
  /** The WebSocket endpoint, e.g. `wss://fx.example.com/v1/ws`. */
  url: string
  symbols?: readonly string[]
  /** Defaults to `globalThis.WebSocket` (browsers, Node ≥ 22); pass `ws`'s WebSocket on Node 20. */
  WebSocket?: SocketConstructor
  onSnapshot?: (rates: Rate[], seq: number) => void
  /** Only the rates that changed. */
  onUpdate?: (changed: Rate[], seq: number) => void
  onStatus?: (status: TickerStatus) => void
  /** The server refused a message this client sent. */
  onServerError?: (error: { code: string, message: string }) => void
  backoff?: BackoffOptions
  /** Silence after which the link is presumed dead: 2.5 server heartbeats by default. */
  heartbeatTimeoutMs?: number
  random?: () => number
}

export interface TickerClient {
  /** The rates held, in the order the server sent them. */
  rates: () => Rate[]
  get: (pair: string) => Rate | undefined
  status: () => TickerStatus
  /** Changes the symbols; the server answers with a snapshot of them. An empty list asks for every currency. */
  subscribe: (symbols: readonly string[]) => void
  close: () => void
}

/**
 * Keeps the ticker's state current over one WebSocket, resuming with `since` after every interruption
 * (link.ts), and tells each kind of message to its own callback.
 */
export function createTickerClient (options: TickerClientOptions): TickerClient {
  const found = options.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket
  if (found === undefined) throw new TypeError('no WebSocket implementation: pass one as the WebSocket option')
  const link = openLink({
    ...options,
    WebSocket: found,
    onMessage (msg) {
      if (msg.type === 'snapshot') options.onSnapshot?.(msg.rates, msg.seq)
      else if (msg.type === 'update') options.onUpdate?.(msg.rates, msg.seq)
      else if (msg.type === 'error') options.onServerError?.({ code: msg.code, message: msg.message })
    }
  })
  return { ...link, get: (pair) => link.rates().find((r) => r.pair === pair) }
}
