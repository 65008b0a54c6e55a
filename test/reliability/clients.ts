import { request } from 'node:http'
import type { ClientRequest } from 'node:http'
import { WebSocket } from 'ws'

/** First and last arrival of each seq over a group of clients: how long a publish takes to reach them all. */
export class Arrivals {
  readonly bySeq = new Map<number, { first: number, last: number, count: number }>()
  note (seq: number, at: number): void {
    const a = this.bySeq.get(seq)
    if (a === undefined) this.bySeq.set(seq, { first: at, last: at, count: 1 })
    else { a.last = Math.max(a.last, at); a.count++ }
  }
}

/** What one push client saw, kept small enough for thousands of them. */
export interface Client {
  transport: 'ws' | 'sse'
  /** Seq of the last snapshot or update (or the `since` resumed from), and of anything (heartbeats too). */
  seq: number
  lastSeq: number
  messages: number
  /** Type of the first message: `snapshot`, or `heartbeat` when the client resumed at the current seq. */
  first: string | undefined
  /** A snapshot or update older than one already received. */
  backwards: number
  /** Longest silence between two messages, and when the last one came. */
  maxGapMs: number
  lastAt: number
  /** Set when the connection ended or was refused (status or close code). */
  ended: string | undefined
  /** Resolves with the first message, or rejects when refused or closed before it. */
  ready: Promise<void>
  close: () => void
}

export interface ClientOptions {
  localAddress?: string
  /** Resume: `?since=` for WebSocket, `Last-Event-ID` for SSE. */
  since?: number
  symbols?: string
  arrivals?: Arrivals
}

function tracker (transport: 'ws' | 'sse', options: ClientOptions): { c: Client, onMessage: (type: string, seq: number) => void, settle: { resolve: () => void, reject: (e: Error) => void } } {
  let settleOk: () => void = () => {}
  let settleFail: (e: Error) => void = () => {}
  const ready = new Promise<void>((resolve, reject) => { settleOk = resolve; settleFail = reject })
  ready.catch(() => {})
  const c: Client = { transport, seq: options.since ?? 0, lastSeq: 0, messages: 0, first: undefined, backwards: 0, maxGapMs: 0, lastAt: 0, ended: undefined, ready, close: () => {} }
  const onMessage = (type: string, seq: number): void => {
    const now = Date.now()
    if (c.messages > 0) c.maxGapMs = Math.max(c.maxGapMs, now - c.lastAt)
    c.lastAt = now
    c.messages++
    c.first ??= type
    c.lastSeq = seq
    if (type === 'snapshot' || type === 'update') {
      if (seq < c.seq) c.backwards++
      c.seq = seq
      options.arrivals?.note(seq, now)
    }
    if (c.messages === 1) settleOk()
  }
  return { c, onMessage, settle: { resolve: settleOk, reject: settleFail } }
}

const query = (options: ClientOptions, since: boolean): string => {
  const q = new URLSearchParams()
  if (options.symbols !== undefined) q.set('symbols', options.symbols)
  if (since && options.since !== undefined) q.set('since', String(options.since))
  const s = q.toString()
  return s === '' ? '' : `?${s}`
}

/** A WebSocket client of /v1/ws. */
export function openWs (origin: string, options: ClientOptions = {}): Client {
  const { c, onMessage, settle } = tracker('ws', options)
  const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/v1/ws${query(options, true)}`, {
    perMessageDeflate: false,
    ...(options.localAddress !== undefined && { localAddress: options.localAddress })
  })
  ws.on('message', (data: Buffer) => {
    // the type and seq lead every message: no full parse for thousands of clients
    const head = data.subarray(0, 96).toString()
    onMessage(/"type":"(\w+)"/.exec(head)?.[1] ?? 'unknown', Number(/"seq":(\d+)/.exec(head)?.[1] ?? 0))
  })
  ws.on('unexpected-response', (_req, res) => {
    c.ended = `HTTP ${res.statusCode ?? 0}${res.headers['retry-after'] !== undefined ? ' retry-after' : ''}`
    res.resume()
    settle.reject(new Error(c.ended))
    ws.terminate()
  })
  ws.on('error', (err) => { c.ended ??= `error ${err.message}`; settle.reject(err) })
  ws.on('close', (code) => { c.ended ??= `close ${code}`; settle.reject(new Error(c.ended)) })
  c.close = () => { ws.terminate() }
  return c
}

/** A Server-Sent Events client of /v1/stream. */
export function openSse (origin: string, options: ClientOptions = {}): Client {
  const { c, onMessage, settle } = tracker('sse', options)
  const url = new URL(`${origin}/v1/stream${query(options, false)}`)
  const req: ClientRequest = request(url, {
    headers: { accept: 'text/event-stream', ...(options.since !== undefined && { 'last-event-id': String(options.since) }) },
    ...(options.localAddress !== undefined && { localAddress: options.localAddress })
  }, (res) => {
    if (res.statusCode !== 200) {
      c.ended = `HTTP ${res.statusCode ?? 0}${res.headers['retry-after'] !== undefined ? ' retry-after' : ''}`
      res.resume()
      settle.reject(new Error(c.ended))
      return
    }
    let buffer = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buffer += chunk
      let end = buffer.indexOf('\n\n')
      while (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const type = /^event: ?(\w+)/m.exec(block)?.[1]
        const seq = /"seq":(\d+)/.exec(block)?.[1]
        if (type !== undefined) onMessage(type, Number(seq ?? 0))
        end = buffer.indexOf('\n\n')
      }
    })
    res.on('end', () => { c.ended ??= 'ended'; settle.reject(new Error('ended')) })
    res.on('error', () => { c.ended ??= 'reset' })
  })
  req.on('error', (err) => { c.ended ??= `error ${err.message}`; settle.reject(err) })
  req.end()
  c.close = () => { req.destroy() }
  return c
}
