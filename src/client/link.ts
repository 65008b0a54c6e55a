import type { Rate } from '../domain/rate.js'
import { retryHint } from '../domain/protocol.js'
import type { ServerMessage } from '../domain/protocol.js'
import { backoffDelay } from './backoff.js'
import type { BackoffOptions } from './backoff.js'

// method syntax makes handler parameters bivariant, so DOM, undici and `ws` sockets all fit
type Handler<E> = { bivarianceHack (event: E): void }['bivarianceHack']

/** The part of the WebSocket API the client uses: the browser's, Node's global or the `ws` package's. */
export interface SocketLike {
  onopen: Handler<unknown> | null
  onmessage: Handler<{ data: unknown }> | null
  onclose: Handler<{ code: number, reason: string }> | null
  onerror: Handler<unknown> | null
  send: (data: string) => void
  close: (code?: number, reason?: string) => void
}
export type SocketConstructor = new (url: string) => SocketLike

export interface TickerStatus {
  connection: 'connecting' | 'open' | 'waiting' | 'closed'
  /** What the last heartbeat said: `live` while a current rate is served. */
  feed: 'live' | 'idle' | 'unknown'
  nextExpectedAt: string | null
  seq: number
  /** The delay before the next connection attempt while `waiting`. */
  retryInMs: number | null
}

/** The connection's settings; the client (client.ts) adds a default socket and one callback per kind of message. */
export interface LinkOptions {
  /** The WebSocket endpoint, e.g. `wss://fx.example.com/v1/ws`. */
  url: string
  symbols?: readonly string[] | undefined
  WebSocket: SocketConstructor
  backoff?: BackoffOptions | undefined
  /** Silence after which the link is presumed dead: 2.5 server heartbeats by default. */
  heartbeatTimeoutMs?: number | undefined
  random?: (() => number) | undefined
  /** Every change of the status: of the connection, and on every snapshot, update and heartbeat. */
  onStatus?: ((status: TickerStatus) => void) | undefined
  /** Every protocol message, once the state holds what it brought. */
  onMessage?: ((msg: ServerMessage) => void) | undefined
}

export interface Link {
  /** The rates held, in the order the server sent them. */
  rates: () => Rate[]
  status: () => TickerStatus
  /** Changes the symbols; the server answers with a snapshot of them. An empty list asks for every currency. */
  subscribe: (symbols: readonly string[]) => void
  close: () => void
}

/**
 * Keeps the ticker's state current over one WebSocket, resuming with `since` after every interruption.
 * The state machine of the public client and of the widget, which needs nothing more.
 */
export function openLink (options: LinkOptions): Link {
  const Ctor = options.WebSocket
  const random = options.random ?? Math.random
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 62_500
  let symbols = options.symbols
  // the symbols the current socket's URL asked for: a change made while it connects is sent once it opens
  let asked: readonly string[] | undefined
  let rates = new Map<string, Rate>()
  let status: TickerStatus = { connection: 'connecting', feed: 'unknown', nextExpectedAt: null, seq: 0, retryInMs: null }
  let socket: SocketLike | undefined
  let attempt = 0
  let closed = false
  let synced = false
  let since = 0
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let watchdog: ReturnType<typeof setTimeout> | undefined

  const setStatus = (patch: Partial<TickerStatus>): void => {
    status = { ...status, ...patch }
    options.onStatus?.(status)
  }

  const endpoint = (): string => {
    const u = new URL(options.url)
    asked = symbols
    if (symbols !== undefined) u.searchParams.set('symbols', symbols.join(','))
    if (status.seq > 0) u.searchParams.set('since', String(status.seq))
    return u.toString()
  }

  const abandon = (): void => {
    clearTimeout(watchdog)
    if (socket === undefined) return
    const s = socket
    socket = undefined
    s.onopen = s.onmessage = s.onclose = null
    // some implementations report closing a socket that is still connecting as an error event
    s.onerror = () => {}
    try { s.close() } catch { /* already closing */ }
  }

  const retry = (hintMs?: number): void => {
    abandon()
    if (closed) return
    const delay = hintMs ?? backoffDelay(attempt, options.backoff, random)
    attempt++
    setStatus({ connection: 'waiting', retryInMs: delay })
    retryTimer = setTimeout(connect, delay)
  }

  const arm = (): void => {
    clearTimeout(watchdog)
    watchdog = setTimeout(() => retry(), heartbeatTimeoutMs)
  }

  const onMessage = (msg: ServerMessage): void => {
    attempt = 0
    if (msg.type === 'snapshot') {
      rates = new Map()
      synced = true
    }
    if (msg.type === 'snapshot' || msg.type === 'update') {
      for (const r of msg.rates) rates.set(r.pair, r)
      setStatus({ seq: msg.seq })
    } else if (msg.type === 'heartbeat') {
      // a lone heartbeat at the seq we resumed from means we are current; a filtered client skips seqs
      if (!synced && since > 0 && msg.seq === since) synced = true
      setStatus({ feed: msg.status, nextExpectedAt: msg.nextExpectedAt, ...(synced && msg.seq > status.seq && { seq: msg.seq }) })
    }
    options.onMessage?.(msg)
  }

  function connect (): void {
    if (closed) return
    synced = false
    since = status.seq
    setStatus({ connection: 'connecting', retryInMs: null })
    let s: SocketLike
    try {
      s = new Ctor(endpoint())
    } catch {
      retry()
      return
    }
    socket = s
    s.onopen = () => {
      setStatus({ connection: 'open' })
      arm()
      if (symbols !== asked && symbols !== undefined) s.send(JSON.stringify({ type: 'subscribe', symbols }))
    }
    s.onmessage = (event) => {
      arm()
      let msg: unknown
      try { msg = JSON.parse(String(event.data)) } catch { return }
      if (typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string') onMessage(msg as ServerMessage)
    }
    s.onclose = (event) => { retry(retryHint(event.code, event.reason)) }
    s.onerror = () => { /* a close event follows */ }
    arm()
  }

  connect()
  return {
    rates: () => [...rates.values()],
    status: () => status,
    subscribe (next) {
      symbols = next.length === 0 ? undefined : [...next]
      // what we hold belongs to the old symbols: should the link drop before the answer, the next connect must
      // bring a snapshot, not a heartbeat
      status = { ...status, seq: 0 }
      if (symbols === undefined) {
        // a subscribe message names at least one symbol: only a new connection without a filter gets them all
        if (closed) return
        clearTimeout(retryTimer)
        abandon()
        connect()
      } else if (socket !== undefined && status.connection === 'open') {
        socket.send(JSON.stringify({ type: 'subscribe', symbols }))
      }
    },
    close () {
      closed = true
      clearTimeout(retryTimer)
      abandon()
      setStatus({ connection: 'closed', retryInMs: null })
    }
  }
}
