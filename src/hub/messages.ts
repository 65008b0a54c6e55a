import type { Rate, Snapshot } from '../domain/rate.js'
import type { HeartbeatMessage, ServerMessage } from './protocol.js'

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
  ws: () => Buffer
  sse: () => Buffer
}

export function createFrame (message: ServerMessage): Frame {
  const json = JSON.stringify(message)
  let ws: Buffer | undefined
  let sse: Buffer | undefined
  return {
    type: message.type,
    json,
    ws: () => (ws ??= Buffer.from(json)),
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

/** A fresh rate exists; the peg is never stale, so it counts only when a client follows nothing else. */
function anyCurrent (rates: readonly Rate[]): boolean {
  const floating = rates.filter((r) => r.cadence !== 'peg')
  return (floating.length > 0 ? floating : rates).some((r) => !r.stale)
}

/**
 * The rates of `next` whose published fields differ from `previous`, or undefined when an update cannot
 * express the change (a pair disappeared) and clients need a whole snapshot.
 */
export function diffRates (previous: Snapshot, next: Snapshot): Rate[] | undefined {
  const before = new Map(previous.rates.map((r) => [r.pair, r]))
  const nextPairs = new Set(next.rates.map((r) => r.pair))
  for (const pair of before.keys()) if (!nextPairs.has(pair)) return undefined
  return next.rates.filter((r) => !sameValue(before.get(r.pair), r))
}

function sameValue (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ra = a as Record<string, unknown>
  const rb = b as Record<string, unknown>
  // an absent key and an undefined one serialise alike, so they are the same published value
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined)
  if (ka.length !== Object.keys(rb).filter((k) => rb[k] !== undefined).length) return false
  return ka.every((k) => sameValue(ra[k], rb[k]))
}
