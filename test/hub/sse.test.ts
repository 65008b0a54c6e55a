import http from 'node:http'
import t from 'tap'
import { build } from '../support/build.js'
import { fiveRates, publishInput, rate } from '../support/snapshot.js'
import { listen, metric } from './clients.js'
import { until } from '../support/until.js'

interface SseEvent { event?: string, id?: string, data?: unknown, retry?: number, comment?: string }

interface Stream {
  status: number
  headers: http.IncomingHttpHeaders
  events: SseEvent[]
  next: (event?: string) => Promise<SseEvent>
  ended: Promise<void>
  res: http.IncomingMessage
}

/** An SSE reader on node:http that keeps every block (events, retry fields, comments) in order. */
async function stream (t: { teardown: (fn: () => void) => void }, url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } })
  t.teardown(() => req.destroy())
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => { req.once('response', resolve).once('error', reject) })
  req.on('error', () => {}) // a dropped stream resets the connection
  res.on('error', () => {})
  res.setEncoding('utf8')
  const events: SseEvent[] = []
  let buf = ''
  let taken = 0
  let wake: (() => void) | undefined
  res.on('data', (chunk: string) => {
    buf += chunk
    let i: number
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i)
      buf = buf.slice(i + 2)
      const e: SseEvent = {}
      for (const line of block.split('\n')) {
        const [, k, v] = /^([^:]*):? ?(.*)$/.exec(line) ?? []
        if (k === '') e.comment = v
        else if (k === 'event') e.event = v
        else if (k === 'id') e.id = v
        else if (k === 'data') e.data = JSON.parse(v ?? '')
        else if (k === 'retry') e.retry = Number(v)
      }
      events.push(e)
    }
    wake?.()
  })
  const ended = new Promise<void>((resolve) => { res.once('end', resolve).once('close', resolve) })
  ended.then(() => wake?.(), () => {})
  const next = async (event?: string): Promise<SseEvent> => {
    const deadline = Date.now() + 5000
    for (;;) {
      while (taken < events.length) {
        const e = events[taken++] as SseEvent
        if (event === undefined || e.event === event) return e
      }
      if (res.readableEnded || res.destroyed || Date.now() > deadline) throw new Error(`no ${event ?? 'event'}`)
      await new Promise<void>((resolve) => { const timer = setTimeout(resolve, 50); wake = () => { clearTimeout(timer); resolve() } })
    }
  }
  return { status: res.statusCode ?? 0, headers: res.headers, events, next, ended, res }
}

t.test('a stream opens with a jittered retry, then the snapshot as an event whose id is the seq', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const s = await stream(t, `http://${host}/v1/stream?symbols=KZT,UZS`, { origin: 'https://news.example.com' })
  t.equal(s.status, 200)
  t.equal(s.headers['content-type'], 'text/event-stream')
  t.equal(s.headers['cache-control'], 'no-cache, no-transform')
  t.equal(s.headers['x-accel-buffering'], 'no')
  t.equal(s.headers.connection, 'keep-alive')
  t.equal(s.headers['access-control-allow-origin'], '*', 'CORS headers survive the hijack')
  const first = await s.next()
  t.ok(first.retry !== undefined && first.retry >= 1000 && first.retry <= 5000, `retry: ${first.retry}`)
  const snap = await s.next()
  t.match(snap, { event: 'snapshot', id: '1', data: { type: 'snapshot', seq: 1 } })
  t.same((snap.data as { rates: Array<{ pair: string }> }).rates.map((r) => r.pair), ['KZT/USD', 'UZS/USD'])

  await app.store.publish(publishInput(fiveRates({ KGS: 88 })))
  await app.store.publish(publishInput(fiveRates({ KGS: 88, UZS: 12100 })))
  t.match(await s.next('update'), { id: '3', data: { type: 'update', seq: 3, rates: [{ pair: 'UZS/USD' }] } }, 'the KGS-only change was not sent')
  t.equal(await metric(app, 'clients', { transport: 'sse' }), 1)
  t.ok(await metric(app, 'messagesSent', { transport: 'sse', type: 'update' }) >= 1)
})

t.test('Last-Event-ID resumes like since, and wins over the query', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  await app.store.publish(publishInput(fiveRates({ TJS: 9.3 })))
  const host = await listen(app)
  const current = await stream(t, `http://${host}/v1/stream?since=1`, { 'last-event-id': '2' })
  await current.next() // retry
  const hb = await current.next()
  t.match(hb, { comment: 'hb', event: 'heartbeat', id: '2', data: { type: 'heartbeat', seq: 2 } })
  const old = await stream(t, `http://${host}/v1/stream`, { 'last-event-id': '1' })
  t.match(await old.next('snapshot'), { id: '2' })
  const viaQuery = await stream(t, `http://${host}/v1/stream?since=2`)
  await viaQuery.next()
  t.match(await viaQuery.next(), { event: 'heartbeat' })
  const garbage = await stream(t, `http://${host}/v1/stream?since=2`, { 'last-event-id': 'abc' })
  await garbage.next()
  t.match(await garbage.next(), { event: 'heartbeat' }, 'an id that is not a seq is ignored')
})

t.test('heartbeats on a stream: a comment plus the heartbeat event', async (t) => {
  const app = await build(t, { env: { WS_HEARTBEAT_MS: '100' } })
  const host = await listen(app)
  const s = await stream(t, `http://${host}/v1/stream`)
  await s.next() // retry
  t.match(await s.next(), { event: 'heartbeat', data: { seq: 0, status: 'idle' } }, 'before any snapshot')
  const started = Date.now()
  t.match(await s.next(), { comment: 'hb', event: 'heartbeat', id: '0' })
  t.match(await s.next(), { comment: 'hb', event: 'heartbeat' })
  t.ok(Date.now() - started < 1000)
  await app.store.publish(publishInput(fiveRates()))
  t.match(await s.next('snapshot'), { id: '1' }, 'the first snapshot follows as soon as it exists')
})

t.test('bad parameters are refused with 400 before streaming', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/v1/stream?symbols=XXX' })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { error: 'RATES_BAD_REQUEST', message: /XXX/ })
  t.equal((await app.inject({ url: '/v1/stream?since=-1' })).statusCode, 400)
})

t.test('a stream reader that stops reading is dropped and counted', async (t) => {
  const app = await build(t, { env: { WS_MAX_BUFFERED_BYTES: '65536' } })
  const heavy = (n: number) => [rate('KZT', 500 + n, { sources: Array.from({ length: 1500 }, (_, i) => ({ id: `s${i}`, inverse: 500 + n, date: '2025-11-26', used: true })) })]
  await app.store.publish(publishInput(heavy(0)))
  const host = await listen(app)
  const slow = await stream(t, `http://${host}/v1/stream`)
  await slow.next('snapshot')
  slow.res.pause()
  slow.res.socket?.pause()
  let rounds = 0
  for (; rounds < 500 && (await metric(app, 'messagesDropped', { transport: 'sse', reason: 'slow_consumer' })) === 0; rounds++) {
    await app.store.publish(publishInput(heavy(rounds + 1)))
  }
  t.ok(rounds < 500, `dropped after ${rounds} updates`)
  await until(async () => (await metric(app, 'clients', { transport: 'sse' })) === 0, { timeoutMs: 5000 })
  t.pass('its slot is freed')
})

t.test('app.close() ends every stream after a final jittered retry', async (t) => {
  const app = await build(t, { env: { FX_SHUTDOWN_RETRY_MS: '20000' } })
  const host = await listen(app)
  const streams = await Promise.all([1, 2, 3, 4].map(async () => await stream(t, `http://${host}/v1/stream`)))
  for (const s of streams) await s.next('heartbeat')
  await app.close()
  const hints: number[] = []
  for (const s of streams) {
    await s.ended
    const last = s.events.at(-1)
    t.ok(last?.retry !== undefined && last.retry >= 1000 && last.retry <= 20_000, `final retry: ${last?.retry}`)
    hints.push(last?.retry ?? 0)
  }
  t.ok(new Set(hints).size > 1, `different streams get different hints: ${hints.join(', ')}`)
})

t.test('a stream holds a connection slot until it ends', async (t) => {
  const app = await build(t, { env: { WS_MAX_CONNECTIONS_PER_IP: '1' } })
  const host = await listen(app)
  const first = await stream(t, `http://${host}/v1/stream`)
  await first.next('heartbeat')
  const second = await fetch(`http://${host}/v1/stream`)
  t.equal(second.status, 429)
  t.equal(second.headers.get('retry-after'), '30')
  await second.body?.cancel()
  first.res.destroy()
  await until(async () => (await metric(app, 'clients', { transport: 'sse' })) === 0, { timeoutMs: 5000 })
  const third = await stream(t, `http://${host}/v1/stream`)
  t.equal(third.status, 200)
})
