import t from 'tap'
import type { WebSocket as ServerSocket } from 'ws'
import { build } from '../support/build.js'
import { fiveRates, publishInput, rate } from '../support/snapshot.js'
import { connect, listen, metric, refusal } from './clients.js'
import { until } from '../support/until.js'
import { createConnectionCounter, originAllowed } from '../../src/hub/admission.js'
import { createRateLimiter } from '../../src/hub/rate-limiter.js'
import { jitter, shutdownHint } from '../../src/hub/retry.js'

t.test('an oversize frame closes the connection with 1009', async (t) => {
  const app = await build(t, { env: { WS_MAX_PAYLOAD: '256' } })
  const host = await listen(app)
  const c = connect(t, `ws://${host}/v1/ws`)
  await c.opened
  c.ws.send(JSON.stringify({ type: 'subscribe', symbols: ['KZT'], pad: 'x'.repeat(300) }))
  t.equal((await c.closed).code, 1009)
})

t.test('an invalid message gets an error naming the problem; the fifth closes with 1008', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const c = connect(t, `ws://${host}/v1/ws`)
  await c.opened
  await c.next('snapshot')
  c.ws.send('not json at all')
  t.match(await c.next(), { type: 'error', code: 'bad_json' })
  c.ws.send(JSON.stringify({ type: 'subscribe', symbols: 'KZT' }))
  t.match(await c.next(), { type: 'error', code: 'bad_message', message: /symbols/ })
  c.ws.send(JSON.stringify({ type: 'unsubscribe' }))
  t.match(await c.next(), { type: 'error', code: 'bad_message', message: /type/ })
  c.ws.send(JSON.stringify({ type: 'subscribe', symbols: ['EUR'] }))
  t.match(await c.next(), { type: 'error', code: 'unknown_symbol', message: /EUR/ })
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true })
  const closed = await c.closed
  t.equal(closed.code, 1008)
  t.match(closed.reason, /too many invalid messages/)
})

t.test('a flood gets rate_limited errors, then a 1008 close', async (t) => {
  const app = await build(t, { env: { WS_MAX_MESSAGES_PER_SEC: '3' } })
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const c = connect(t, `ws://${host}/v1/ws`)
  await c.opened
  await c.next('snapshot')
  for (let i = 0; i < 20; i++) c.ws.send(JSON.stringify({ type: 'subscribe', symbols: ['KZT'] }))
  t.equal((await c.closed).code, 1008)
  const types = c.received.map((m) => m.type === 'error' ? m.code : m.type)
  t.same(types.slice(0, 4), ['snapshot', 'snapshot', 'snapshot', 'snapshot'], 'the budget is served')
  t.ok(types.includes('rate_limited'), 'the excess is refused')
  t.ok(types.length <= 9, `the connection was cut after ${types.length} messages`)
})

t.test('origins: a foreign one gets 403 before upgrade on both transports; listed and same-origin pages pass', async (t) => {
  const app = await build(t, { env: { CORS_ORIGINS: 'https://news.example.com' } })
  const host = await listen(app)
  const foreign = await refusal(t, `ws://${host}/v1/ws`, { origin: 'https://evil.example.net' })
  t.equal(foreign.status, 403)
  t.match(JSON.parse(foreign.body), { error: 'RATES_FORBIDDEN', message: /evil/ })
  const sse = await fetch(`http://${host}/v1/stream`, { headers: { origin: 'https://evil.example.net' } })
  t.equal(sse.status, 403)
  await sse.body?.cancel()
  const listed = connect(t, `ws://${host}/v1/ws`, { origin: 'https://news.example.com' })
  await listed.opened
  const self = connect(t, `ws://${host}/v1/ws`, { origin: `http://${host}` })
  await self.opened
  const serverSide = connect(t, `ws://${host}/v1/ws`)
  await serverSide.opened
  t.pass('listed origin, own origin and no origin are accepted')
})

t.test('without FX_TRUST_PROXY a forged X-Forwarded-For does not dodge the per-address limit', async (t) => {
  const app = await build(t, { env: { WS_MAX_CONNECTIONS_PER_IP: '1' } })
  const host = await listen(app)
  const a = connect(t, `ws://${host}/v1/ws`)
  await a.opened
  const forged = await refusal(t, `ws://${host}/v1/ws`, { headers: { 'x-forwarded-for': '203.0.113.9' } })
  t.equal(forged.status, 429)
})

t.test('connection limits: 429 over the per-address limit, 503 over the total, slots freed on close', async (t) => {
  const app = await build(t, { env: { WS_MAX_CONNECTIONS_PER_IP: '2', WS_MAX_CONNECTIONS: '3', FX_TRUST_PROXY: 'true' } })
  const host = await listen(app)
  const a = connect(t, `ws://${host}/v1/ws`)
  const b = connect(t, `ws://${host}/v1/ws`)
  await Promise.all([a.opened, b.opened])
  const third = await refusal(t, `ws://${host}/v1/ws`)
  t.equal(third.status, 429)
  const sse = await fetch(`http://${host}/v1/stream`)
  t.equal(sse.status, 429, 'SSE streams count against the same limit')
  await sse.body?.cancel()
  // another client address, as a trusted proxy in front would report it
  const other = connect(t, `ws://${host}/v1/ws`, { headers: { 'x-forwarded-for': '203.0.113.7' } })
  await other.opened
  const fourth = await refusal(t, `ws://${host}/v1/ws`, { headers: { 'x-forwarded-for': '203.0.113.8' } })
  t.equal(fourth.status, 503)
  a.ws.close()
  await a.closed
  await until(async () => (await metric(app, 'clients', { transport: 'ws' })) === 2, { timeoutMs: 5000 })
  const again = connect(t, `ws://${host}/v1/ws`)
  await again.opened
  t.pass('a closed connection frees its slot')
})

t.test('a client that stops reading is closed with 1013 while others keep receiving; the buffer stays bounded', async (t) => {
  const maxBuffered = 65_536
  const app = await build(t, { env: { WS_MAX_BUFFERED_BYTES: String(maxBuffered) } })
  const serverSockets: ServerSocket[] = []
  app.websocketServer.on('connection', (s: ServerSocket) => serverSockets.push(s))
  // rates that weigh many observations make each update some 100 KB, so kernel buffers fill in a few rounds
  const heavy = (n: number) => fiveRates({ KZT: 500 + n }).map((r) => r.base === 'KZT'
    ? rate('KZT', 500 + n, { sources: Array.from({ length: 1500 }, (_, i) => ({ id: `s${i}`, inverse: 500 + n, date: r.date, used: true })) })
    : r)
  await app.store.publish(publishInput(heavy(0)))
  const host = await listen(app)
  const slow = connect(t, `ws://${host}/v1/ws`)
  const fast = connect(t, `ws://${host}/v1/ws`)
  await slow.next('snapshot')
  await fast.next('snapshot')
  ;(slow.ws as unknown as { _socket: { pause: () => void, resume: () => void } })._socket.pause()
  let rounds = 0
  let peak = 0
  for (; rounds < 500 && (await metric(app, 'messagesDropped', { transport: 'ws', reason: 'slow_consumer' })) === 0; rounds++) {
    await app.store.publish(publishInput(heavy(rounds + 1)))
    peak = Math.max(peak, ...serverSockets.map((s) => s.bufferedAmount))
    const u = await fast.next('update')
    if (u.type !== 'update' || u.seq !== rounds + 2) t.fail(`the reading client missed an update: ${JSON.stringify(u).slice(0, 80)}`)
  }
  t.ok(rounds < 500, `the slow client was dropped after ${rounds} updates`)
  for (let i = 0; i < 20; i++) {
    await app.store.publish(publishInput(heavy(1000 + i)))
    peak = Math.max(peak, ...serverSockets.map((s) => s.bufferedAmount))
  }
  t.ok(peak < maxBuffered + 200_000, `server-side buffer peaked at ${peak} bytes (limit ${maxBuffered} + one frame)`)
  await until(() => fast.received.at(-1)?.type === 'update' && (fast.received.at(-1) as { seq: number }).seq === rounds + 21, { timeoutMs: 5000, what: 'the last update' })
  t.pass('the others keep receiving')
  ;(slow.ws as unknown as { _socket: { resume: () => void } })._socket.resume()
  const closed = await slow.closed
  t.equal(closed.code, 1013)
  t.match(closed.reason, /^slow consumer; retry in \d+ ms$/)
})

t.test('a client that does not answer pings is terminated and its slot freed', async (t) => {
  const app = await build(t, { env: { WS_PING_MS: '100' } })
  const host = await listen(app)
  const mute = connect(t, `ws://${host}/v1/ws`, { autoPong: false })
  const live = connect(t, `ws://${host}/v1/ws`)
  await Promise.all([mute.opened, live.opened])
  const started = Date.now()
  t.equal((await mute.closed).code, 1006, 'cut without a close handshake')
  t.ok(Date.now() - started < 1000, 'within a few ping periods')
  await until(async () => (await metric(app, 'clients', { transport: 'ws' })) === 1, { timeoutMs: 5000 })
  t.equal(live.ws.readyState, live.ws.OPEN, 'a client that answers stays')
  t.equal(await metric(app, 'messagesDropped', { reason: 'ping_timeout' }), 1)
})

t.test('limit helpers', async (t) => {
  t.equal(jitter(10, 20, () => 0), 10)
  t.equal(jitter(10, 20, () => 0.9999), 20)
  t.equal(shutdownHint(30_000, () => 0), 1000)
  t.equal(shutdownHint(30_000, () => 0.99999), 30_000)
  t.equal(shutdownHint(400, () => 0), 200, 'a test-sized bound still jitters')
  t.ok(originAllowed(undefined, 'a', ['https://x.example']))
  t.ok(originAllowed('https://anything', 'a', ['*']))
  t.ok(originAllowed('HTTPS://X.example', 'a', ['https://x.example']))
  t.notOk(originAllowed('null', 'a', ['https://x.example']), 'an opaque origin is foreign')
  t.notOk(originAllowed('https://y.example', 'x.example', ['https://x.example']))
  const counter = createConnectionCounter({ maxConnections: 2, maxConnectionsPerIp: 1 })
  const first = counter.admit('a')
  t.match(counter.admit('a'), { ok: false, statusCode: 429 })
  if (first.ok) { first.release(); first.release() }
  t.equal(counter.total(), 0, 'release is idempotent')
  let clock = 0
  const limiter = createRateLimiter(2, () => clock)
  t.same([limiter.take(), limiter.take(), limiter.take()], [true, true, false])
  clock = 500
  t.same([limiter.take(), limiter.take()], [true, false], 'refills at the configured rate')
})
