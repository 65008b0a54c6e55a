import { randomBytes } from 'node:crypto'
import { Agent, request } from 'node:http'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { WebSocket } from 'ws'
import { openSse, openWs } from './clients.js'
import type { Client } from './clients.js'
import { bounded, waitFor } from './scope.js'

// The hostile clients: each function attacks from its own loopback address and returns what it observed.

export interface Target { url: string, port: number, perIp: number, restPerMin: number }
export interface Observed { count: number, problems: string[], did: string }

/** Opens sockets with a bounded number in flight. */
async function inBatches<T> (n: number, width: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < n; i += width) out.push(...await Promise.all(Array.from({ length: Math.min(width, n - i) }, async (_x, j) => await open(i + j))))
  return out
}

/** A raw TCP connection from `from`, with what it has received so far. */
function raw (t: Target, from: string, first?: string): { socket: Socket, text: () => string } {
  const socket = connect({ host: '127.0.0.1', port: t.port, localAddress: from, allowHalfOpen: true })
  let text = ''
  socket.on('data', (c: Buffer) => { text += c.toString('latin1') })
  socket.on('error', () => {})
  if (first !== undefined) socket.write(first)
  return { socket, text: () => text }
}

const statusOf = (text: string): number | undefined => { const m = /^HTTP\/1\.1 (\d{3})/.exec(text); return m === null ? undefined : Number(m[1]) }

/** Thousands of stream connections from one address: beyond the per-address limit each gets 429 with Retry-After. */
export async function connectionFlood (t: Target, from: string, n: number): Promise<Observed> {
  const problems: string[] = []
  const clients = await inBatches(n, 200, async (i) => {
    const c = i % 4 === 3 ? openSse(t.url, { localAddress: from }) : openWs(t.url, { localAddress: from })
    await bounded(c.ready, 10_000, 'a flood client').catch(() => {})
    return c
  })
  const opened = clients.filter((c) => c.messages > 0 && c.ended === undefined).length
  const limited = clients.filter((c) => c.ended === 'HTTP 429 retry-after').length
  const other = clients.filter((c) => c.messages === 0 && c.ended !== 'HTTP 429 retry-after')
  if (opened > t.perIp) problems.push(`${opened} streams accepted from one address (limit ${t.perIp})`)
  if (other.length > 0) problems.push(`${other.length} connections neither served nor refused with 429 (${[...new Set(other.map((c) => c.ended ?? 'no answer'))].slice(0, 3).join(', ')})`)
  for (const c of clients) c.close()
  const freed = await waitFor(async () => { const c = openWs(t.url, { localAddress: from }); const ok = await c.ready.then(() => true, () => false); c.close(); return ok }, 5000, 100)
  if (freed === undefined) problems.push('slots were not released after the flood closed')
  return { count: n, problems, did: `${opened} served, ${limited} refused 429 with Retry-After; slots ${freed === undefined ? 'not ' : ''}released on close` }
}

/** A REST flood past the per-address limit, then percent-encoded spellings of /v1 paths from the same address. */
export async function restFlood (t: Target, from: string, other: string): Promise<Observed> {
  const problems: string[] = []
  const agent = new Agent({ keepAlive: true, maxSockets: 8, localAddress: from })
  const get = async (path: string, via = agent): Promise<{ status: number, retry: boolean }> => await new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: t.port, path, agent: via, method: 'GET' }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retry: res.headers['retry-after'] !== undefined }))
    })
    req.setTimeout(3000, () => { req.destroy(); resolve({ status: 0, retry: false }) })
    req.on('error', () => resolve({ status: 0, retry: false }))
    req.end()
  })
  const flood = await inBatches(t.restPerMin + 60, 8, async () => await get('/v1/rates'))
  const limited = flood.filter((r) => r.status === 429)
  if (limited.length === 0) problems.push(`no 429 after ${flood.length} requests a minute (limit ${t.restPerMin})`)
  if (limited.some((r) => !r.retry)) problems.push('429 without Retry-After')
  const spellings = ['/%761/rates', '/v%31/rates', '/%76%31/%72%61%74%65%73', '/v1/%72ates', '/v1/rates/%4BZT', '/v1/%68istory/KZT', '/v1//rates', '/v1/./rates', '/v1/rates/', '/v1/x/../rates', '/v1/rates;x', '/V1/rates']
  const bypass: string[] = []
  for (const path of spellings) {
    const r = await get(path)
    if (r.status >= 200 && r.status < 400) bypass.push(`${path} → ${r.status}`)
  }
  if (bypass.length > 0) problems.push(`served past the limit: ${bypass.join(', ')}`)
  agent.destroy()
  const fair = new Agent({ keepAlive: false, localAddress: other })
  const elsewhere = await get('/v1/rates', fair)
  if (elsewhere.status !== 200) problems.push(`another address got ${elsewhere.status} while this one was limited`)
  // broken percent-encoding is refused by the framework before any route: still the documented error shape
  const malformed = ['/v1/rates/%E0%A4%A', '/%zz', '/v1/history/%']
  let shaped = 0
  for (const path of malformed) {
    const body = await bodyOf(t, other, path)
    if (/^\{"error":"RATES_[A-Z_]+","message":"[^"]*"\}$/.test(body.text) && body.status >= 400 && body.status < 500) shaped++
    else problems.push(`${path} → ${body.status} ${body.text.slice(0, 80)}`)
  }
  return { count: flood.length + spellings.length + malformed.length, problems, did: `${limited.length} of ${flood.length} refused 429; ${spellings.length - bypass.length} of ${spellings.length} encoded spellings not served; other addresses unaffected; ${shaped} of ${malformed.length} malformed encodings answered { error, message }` }
}

/** Status and body of one GET of a raw path from `from`. */
async function bodyOf (t: Target, from: string, path: string): Promise<{ status: number, text: string }> {
  return await new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: t.port, path, localAddress: from, method: 'GET' }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.setTimeout(3000, () => { req.destroy(); resolve({ status: 0, text: '' }) })
    req.on('error', () => resolve({ status: 0, text: '' }))
    req.end()
  })
}

/** WebSocket and SSE clients that never read (and keep asking for snapshots): they must not slow the others. */
export function slowReaders (t: Target, from: string, n: number): { stop: () => Observed } {
  const sockets: WebSocket[] = []
  const closes: number[] = []
  const timers: NodeJS.Timeout[] = []
  const sse: Socket[] = []
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/v1/ws`, { localAddress: from, perMessageDeflate: false })
    ws.on('error', () => {})
    ws.on('close', (code) => closes.push(code))
    ws.once('open', () => {
      ws.pause()
      timers.push(setInterval(() => { if (ws.readyState === ws.OPEN) ws.send('{"type":"subscribe","symbols":["KGS","KZT","TJS","UZS","TMT"]}') }, 125))
    })
    sockets.push(ws)
    const s = raw(t, from, 'GET /v1/stream HTTP/1.1\r\nHost: fx\r\nAccept: text/event-stream\r\n\r\n')
    s.socket.pause()
    sse.push(s.socket)
  }
  return {
    stop () {
      for (const timer of timers) clearInterval(timer)
      for (const ws of sockets) ws.terminate()
      for (const s of sse) s.destroy()
      const slow = closes.filter((c) => c === 1013).length
      return { count: 2 * n, problems: [], did: `${slow} of ${n} WebSockets closed 1013 (slow consumer); the rest still buffered within the limit` }
    }
  }
}

/** Half-open sockets: unfinished headers, silent connections, and WebSockets whose client half-closed. */
export async function halfOpen (t: Target, from: string, n: number, clients: () => Promise<number>, boundMs: number): Promise<Observed> {
  const problems: string[] = []
  const before = await clients()
  const partial = Array.from({ length: n }, () => raw(t, from, 'GET /v1/rates HTTP/1.1\r\nHost: fx\r\nX-Slow: '))
  const silent = Array.from({ length: n }, () => raw(t, from))
  const key = randomBytes(16).toString('base64')
  const upgraded = Array.from({ length: Math.min(n, 20) }, () =>
    raw(t, from, `GET /v1/ws HTTP/1.1\r\nHost: fx\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`))
  const switched = await waitFor(() => upgraded.every((u) => statusOf(u.text()) !== undefined), 5000)
  if (switched === undefined) problems.push('WebSocket upgrades were not answered')
  for (const u of upgraded) u.socket.end()
  const released = await waitFor(async () => (await clients()) <= before, boundMs, 100)
  if (released === undefined) problems.push(`half-closed WebSockets still counted ${boundMs} ms later`)
  for (const s of [...partial, ...silent, ...upgraded]) s.socket.destroy()
  return { count: partial.length + silent.length + upgraded.length, problems, did: `${partial.length} unfinished requests and ${silent.length} silent sockets held; ${upgraded.length} half-closed WebSockets ${released === undefined ? 'still counted' : 'released'}` }
}

/** Oversize frames close with 1009; repeated invalid messages close with 1008. */
export async function badFrames (t: Target, from: string, n: number): Promise<Observed> {
  const problems: string[] = []
  const codes = await inBatches(n, 50, async (i) => await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/v1/ws`, { localAddress: from, perMessageDeflate: false })
    const timer = setTimeout(() => { ws.terminate(); resolve(-1) }, 5000)
    ws.on('error', () => {})
    ws.on('close', (code) => { clearTimeout(timer); resolve(code) })
    ws.once('open', () => {
      if (i % 2 === 0) ws.send(Buffer.alloc(65_536, 'x'))
      else for (let k = 0; k < 6; k++) ws.send('{"type":')
    })
  }))
  const oversize = codes.filter((_c, i) => i % 2 === 0)
  const garbage = codes.filter((_c, i) => i % 2 === 1)
  if (oversize.some((c) => c !== 1009 && c !== 1006)) problems.push(`oversize frames closed with ${[...new Set(oversize)].join(',')}`)
  if (garbage.some((c) => c !== 1008)) problems.push(`invalid messages closed with ${[...new Set(garbage)].join(',')}`)
  if (codes.includes(-1)) problems.push('a socket was not closed within 5 s')
  return { count: n, problems, did: `oversize frames closed ${[...new Set(oversize)].join('/')}, invalid messages closed ${[...new Set(garbage)].join('/')}` }
}

/** HEAD /v1/stream in bulk from one address: each answered at once, none holding a stream slot. */
export async function headFlood (t: Target, from: string, n: number): Promise<Observed> {
  const problems: string[] = []
  const heads = Array.from({ length: n }, () => raw(t, from, 'HEAD /v1/stream HTTP/1.1\r\nHost: fx\r\n\r\n'))
  await waitFor(() => heads.every((h) => statusOf(h.text()) !== undefined), 3000)
  const unanswered = heads.filter((h) => statusOf(h.text()) === undefined).length
  if (unanswered > 0) problems.push(`${unanswered} of ${n} HEAD requests unanswered after 3 s`)
  const stream = openSse(t.url, { localAddress: from })
  await stream.ready.catch(() => {})
  const admitted = stream.messages > 0
  if (!admitted) problems.push(`a GET /v1/stream from the same address was refused (${stream.ended ?? 'no answer'}) while the HEADs were open`)
  stream.close()
  for (const h of heads) h.socket.destroy()
  return { count: n, problems, did: `${n - unanswered} of ${n} answered at once; a stream from the same address ${admitted ? 'still admitted' : 'refused'}` }
}

/** WebSocket upgrade requests on routes that are not WebSocket endpoints: never 101. */
export async function strayUpgrades (t: Target, from: string): Promise<Observed> {
  const problems: string[] = []
  const routes = ['/v1/rates', '/v1/rates/KZT', '/v1/history/KZT', '/v1/stream', '/healthz', '/readyz', '/metrics', '/', '/widget.js', '/openapi.json', '/nope']
  const key = randomBytes(16).toString('base64')
  const tries = routes.map((path) => ({ path, r: raw(t, from, `GET ${path} HTTP/1.1\r\nHost: fx\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`) }))
  await waitFor(() => tries.every(({ r }) => statusOf(r.text()) !== undefined), 3000)
  const statuses = new Set<number>()
  for (const { path, r } of tries) {
    const status = statusOf(r.text())
    if (status === 101) problems.push(`${path} upgraded (101)`)
    if (status === undefined) problems.push(`${path} unanswered`)
    else statuses.add(status)
    r.socket.destroy()
  }
  return { count: routes.length, problems, did: `${routes.length - problems.length} of ${routes.length} routes refused the upgrade (HTTP ${[...statuses].sort().join(', ')})` }
}

/** A forged Host header must not make its way into a page or a document that others may get from a cache. */
export async function forgedHost (t: Target, from: string): Promise<Observed> {
  const problems: string[] = []
  const routes = ['/', '/openapi.json', '/asyncapi.json', '/v1/rates']
  for (const path of routes) {
    const r = raw(t, from, `GET ${path} HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: evil.example\r\nConnection: close\r\n\r\n`)
    await waitFor(() => r.socket.readableEnded || r.socket.destroyed, 3000)
    if (statusOf(r.text()) === undefined) problems.push(`${path} unanswered`)
    else if (r.text().includes('evil.example')) problems.push(`${path} echoes the forged host`)
    r.socket.destroy()
  }
  return { count: routes.length, problems, did: `${routes.length - problems.length} of ${routes.length} answers free of the forged host` }
}

export type { Client }
