import { anyCurrent } from '../domain/freshness.js'
import type { HeartbeatMessage, ServerMessage } from '../domain/protocol.js'
import type { Rate, Snapshot } from '../domain/rate.js'
import { textFrame } from './ws-write.js'

/** A client's symbol filter; `key` groups clients that receive byte-identical messages. */
export interface Filter {
  key: string
  symbols: ReadonlySet<string> | null
}

export const ALL: Filter = { key: '*', symbols: null }

export function filterOf (symbols: readonly string[] | undefined): Filter {
  if (symbols === undefined) return ALL
  const set = new Set(symbols)
  return { key: [...set].sort().join(','), symbols: set }
}

export function filterRates (rates: readonly Rate[], filter: Filter): Rate[] {
  const symbols = filter.symbols
  return symbols === null ? [...rates] : rates.filter((r) => symbols.has(r.base))
}

/**
 * One serialised server message. Serialisation happens once, then each transport's bytes are made once
 * on first use and shared by every client that receives the message.
 */
export interface Frame {
  readonly type: ServerMessage['type']
  readonly json: string
  /** The JSON payload as bytes. */
  ws: () => Buffer
  /** The payload framed as a WebSocket text frame, written as is to every socket. */
  wsFrame: () => Buffer
  sse: () => Buffer
}

export function createFrame (message: ServerMessage): Frame {
  const json = JSON.stringify(message)
  let ws: Buffer | undefined
  let framed: Buffer | undefined
  let sse: Buffer | undefined
  const payload = (): Buffer => (ws ??= Buffer.from(json))
  return {
    type: message.type,
    json,
    ws: payload,
    wsFrame: () => (framed ??= textFrame(payload())),
    sse () {
      if (sse === undefined) {
        // the comment line keeps byte-counting proxies from timing out; the event is for the application
        const hb = message.type === 'heartbeat' ? ': hb\n' : ''
        const id = 'seq' in message ? `id: ${message.seq}\n` : ''
        sse = Buffer.from(`${hb}event: ${message.type}\n${id}data: ${json}\n\n`)
      }
      return sse
    }
  }
}

/** `live` when a rate of the filter is not stale; `nextExpectedAt` the earliest future fixing among them. */
export function heartbeatOf (snapshot: Snapshot | undefined, filter: Filter, now: Date): HeartbeatMessage {
  if (snapshot === undefined) return { type: 'heartbeat', seq: 0, status: 'idle', nextExpectedAt: null }
  const rates = filterRates(snapshot.rates, filter)
  const t = now.getTime()
  let next: string | null = null
  let nextT = Infinity
  for (const r of rates) {
    if (r.nextExpectedAt === null) continue
    const at = Date.parse(r.nextExpectedAt)
    if (at > t && at < nextT) {
      nextT = at
      next = r.nextExpectedAt
    }
  }
  return { type: 'heartbeat', seq: snapshot.seq, status: anyCurrent(rates) ? 'live' : 'idle', nextExpectedAt: next }
}
