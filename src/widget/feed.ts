import type { Rate, Snapshot } from '../domain/rate.js'
import type { ServerMessage } from '../hub/protocol.js'
import { retryHint } from '../client/backoff.js'

export interface FeedOptions {
  /** The service's base URL, ending in `/`. */
  base: string
  /** Comma-separated bases, or '' for all. */
  symbols: string
  /** Backoff unit in ms: the n-th retry waits up to retry·2ⁿ, capped at 30·retry. */
  retry: number
  /** Polling period in ms once polling is the transport. */
  poll: number
  /** `full` replaces everything shown; otherwise the rates are merged in. */
  onRates: (rates: Rate[], full: boolean) => void
  onLive: (live: boolean) => void
}

// the server sends a heartbeat every 25 s; two missed ones mean a dead link
const WATCHDOG_MS = 62_500
// a fallback transport is given up for another WebSocket attempt after this long
const UPGRADE_MS = 300_000

/**
 * Keeps the rates current: WebSocket first, then SSE, then ETag polling, moving on after two
 * failures in a row and round again, so a blocked WebSocket degrades and a restarted server is found.
 * Returns the function that stops it.
 */
export function openFeed (o: FeedOptions): () => void {
  let mode = 0
  let tries = 0
  let fails = 0
  let seq = -1
  let etag = ''
  let timer: ReturnType<typeof setTimeout> | undefined
  let upgrade: ReturnType<typeof setTimeout> | undefined
  let close: (() => void) | undefined

  const url = (path: string, since?: boolean): string => {
    const q = new URLSearchParams()
    if (o.symbols !== '') q.set('symbols', o.symbols)
    if (since === true && seq >= 0) q.set('since', String(seq))
    const s = q.toString()
    return new URL(path + (s === '' ? '' : '?' + s), o.base).href
  }
  const after = (ms: number, fn: () => void): void => {
    clearTimeout(timer)
    timer = setTimeout(fn, ms)
  }
  const live = (): void => {
    tries = fails = 0
    o.onLive(true)
    if (mode > 0 && upgrade === undefined) {
      upgrade = setTimeout(() => {
        upgrade = undefined
        mode = 0
        restart()
      }, UPGRADE_MS)
    }
  }
  // `hint`: the server's jittered delay when it closed for a restart, so widgets do not all return at once
  const fail = (hint?: number): void => {
    close?.()
    close = undefined
    o.onLive(false)
    if (++fails > 1) {
      mode = (mode + 1) % 3
      fails = 0
    }
    const backoff = Math.random() * Math.min(30 * o.retry, o.retry * 2 ** tries++)
    after(hint ?? backoff, connect)
  }
  const watchdog = (): void => fail()
  const receive = (data: unknown): void => {
    let m: ServerMessage
    try { m = JSON.parse(String(data)) } catch { return }
    live()
    after(WATCHDOG_MS, watchdog)
    if ('seq' in m) seq = m.seq
    if (m.type === 'snapshot' || m.type === 'update') o.onRates(m.rates, m.type === 'snapshot')
  }
  const restart = (): void => {
    close?.()
    connect()
  }

  function connect (): void {
    after(WATCHDOG_MS, watchdog)
    if (mode === 0) {
      const ws = new WebSocket(url('v1/ws', true).replace(/^http/, 'ws'))
      ws.onmessage = (e) => receive(e.data)
      ws.onclose = (e) => fail(retryHint(e.code, e.reason))
      close = () => {
        ws.onclose = ws.onmessage = null
        ws.close()
      }
    } else if (mode === 1) {
      const es = new EventSource(url('v1/stream', true))
      for (const type of ['snapshot', 'update', 'heartbeat', 'message']) es.addEventListener(type, (e) => receive((e as MessageEvent).data))
      es.onerror = () => fail()
      close = () => es.close()
    } else {
      const ac = new AbortController()
      close = () => ac.abort()
      fetch(url('v1/rates'), { headers: etag === '' ? {} : { 'if-none-match': etag }, cache: 'no-store', signal: ac.signal })
        .then(async (res) => {
          if (res.status === 200) {
            const body = await res.json() as Snapshot
            etag = res.headers.get('etag') ?? ''
            seq = body.seq
            o.onRates(body.rates, true)
          } else if (res.status !== 304) throw new Error(String(res.status))
          live()
          after(o.poll, connect)
        })
        .catch(() => { if (!ac.signal.aborted) fail() })
    }
  }

  connect()
  return () => {
    clearTimeout(timer)
    clearTimeout(upgrade)
    close?.()
  }
}
