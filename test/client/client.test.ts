import type { AddressInfo } from 'node:net'
import t from 'tap'
import { WebSocket } from 'ws'
import type { FastifyInstance } from 'fastify'
import type { IncomingMessage } from 'node:http'
import type { WebSocket as ServerSocket } from 'ws'
import { backoffDelay } from '../../src/client/backoff.js'
import { retryHint } from '../../src/domain/protocol.js'
import { createTickerClient } from '../../src/client/client.js'
import type { TickerClientOptions, TickerStatus } from '../../src/client/client.js'
import { build } from '../support/build.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { listen } from '../hub/clients.js'
import { until } from '../support/until.js'

/** Records the query string of every upgrade the app accepts, and its server-side sockets. */
function upgrades (app: FastifyInstance): { urls: string[], sockets: ServerSocket[] } {
  const seen = { urls: [] as string[], sockets: [] as ServerSocket[] }
  app.websocketServer.on('connection', (s: ServerSocket, req: IncomingMessage) => {
    seen.urls.push(req.url ?? '')
    seen.sockets.push(s)
  })
  return seen
}

function client (t: { teardown: (fn: () => void) => void }, options: Omit<TickerClientOptions, 'WebSocket'>) {
  const statuses: TickerStatus[] = []
  const events: string[] = []
  const c = createTickerClient({
    WebSocket,
    onStatus: (s) => statuses.push(s),
    onSnapshot: (rates, seq) => events.push(`snapshot ${seq} ${rates.map((r) => r.base).join(',')}`),
    onUpdate: (rates, seq) => events.push(`update ${seq} ${rates.map((r) => r.base).join(',')}`),
    onServerError: (e) => events.push(`error ${e.code}`),
    ...options
  })
  t.teardown(() => c.close())
  return { c, statuses, events }
}

t.test('keeps the state: snapshot, then updates merged by pair; subscribe swaps the symbols', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const { c, events } = client(t, { url: `ws://${host}/v1/ws`, symbols: ['KZT', 'UZS'] })
  await until(() => events.length === 1, { timeoutMs: 5000 })
  t.same(events, ['snapshot 1 KZT,UZS'])
  t.equal(c.status().connection, 'open')
  await app.store.publish(publishInput(fiveRates({ KZT: 515 })))
  await until(() => events.length === 2, { timeoutMs: 5000 })
  t.equal(events[1], 'update 2 KZT')
  t.equal(c.get('KZT/USD')?.inverse, 515)
  t.same(c.rates().map((r) => r.base), ['KZT', 'UZS'])
  c.subscribe(['TMT'])
  await until(() => events.length === 3, { timeoutMs: 5000 })
  t.equal(events[2], 'snapshot 2 TMT')
  t.same(c.rates().map((r) => r.base), ['TMT'], 'the old symbols are gone')
  t.equal(c.status().seq, 2)
})

t.test('symbols changed while the socket is still connecting are asked for once it opens', async (t) => {
  const app = await build(t)
  const seen = upgrades(app)
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const { c, events } = client(t, { url: `ws://${host}/v1/ws`, symbols: ['KZT'] })
  c.subscribe(['UZS', 'TJS'])
  await until(() => events.includes('snapshot 1 TJS,UZS'), { timeoutMs: 5000, what: 'a snapshot of the new symbols' })
  t.same(c.rates().map((r) => r.base), ['TJS', 'UZS'], 'the symbols asked for last win')
  t.equal(seen.urls.length, 1, 'over the same connection')
})

t.test('an empty symbol list asks for every currency', async (t) => {
  const app = await build(t)
  const seen = upgrades(app)
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const { c, events } = client(t, { url: `ws://${host}/v1/ws`, symbols: ['KZT'] })
  await until(() => events.length === 1, { timeoutMs: 5000 })
  c.subscribe([])
  await until(() => c.rates().length === 5, { timeoutMs: 5000, what: 'all five rates' })
  t.same(seen.urls, ['/v1/ws?symbols=KZT', '/v1/ws'], 'a subscribe names at least one symbol: it reconnects without a filter')
  t.same(events, ['snapshot 1 KZT', 'snapshot 1 KGS,KZT,TJS,UZS,TMT'])
})

t.test('after a server restart it honours the 1012 hint and resumes with since', async (t) => {
  const first = await build(t, { env: { FX_SHUTDOWN_RETRY_MS: '400' } })
  await first.store.publish(publishInput(fiveRates()))
  await first.store.publish(publishInput(fiveRates({ TJS: 9.2 })))
  const host = await listen(first)
  const port = (first.server.address() as AddressInfo).port
  const { c, events, statuses } = client(t, { url: `ws://${host}/v1/ws`, backoff: { initialMs: 50, maxMs: 200 } })
  await until(() => events.length === 1, { timeoutMs: 5000 })
  await first.close()
  await until(() => c.status().connection === 'waiting', { timeoutMs: 5000 })
  const hint = statuses.find((s) => s.connection === 'waiting')?.retryInMs ?? -1
  t.ok(hint >= 200 && hint <= 400, `waits the server's hint: ${hint} ms`)

  const second = await build(t)
  const seen = upgrades(second)
  for (const kzt of [511, 512, 513]) await second.store.publish(publishInput(fiveRates({ KZT: kzt })))
  await second.listen({ port, host: '127.0.0.1' })
  await until(() => events.length === 2, { timeoutMs: 5000, what: 'the snapshot from the new server' })
  t.same(seen.urls, ['/v1/ws?since=2'])
  t.equal(events[1], 'snapshot 3 KGS,KZT,TJS,UZS,TMT', 'its seq was not current: a snapshot')
  t.equal(c.get('KZT/USD')?.inverse, 513)
})

t.test('a dropped link resumes with the current since and is answered by a lone heartbeat', async (t) => {
  const app = await build(t)
  const seen = upgrades(app)
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const { c, events } = client(t, { url: `ws://${host}/v1/ws`, symbols: ['KGS'], backoff: { initialMs: 20, maxMs: 50 } })
  await until(() => events.length === 1, { timeoutMs: 5000 })
  seen.sockets[0]?.terminate()
  await until(() => seen.urls.length === 2 && c.status().connection === 'open' && c.status().feed === 'live', { timeoutMs: 5000 })
  t.same(seen.urls, ['/v1/ws?symbols=KGS', '/v1/ws?symbols=KGS&since=1'])
  t.same(events, ['snapshot 1 KGS'], 'no second snapshot was needed')
  // the resumed connection is in sync: a later heartbeat may advance seq past updates it did not need
  await app.store.publish(publishInput(fiveRates({ UZS: 12100 })))
  await app.store.publish(publishInput(fiveRates({ UZS: 12100, KGS: 88 })))
  await until(() => events.length === 2, { timeoutMs: 5000 })
  t.equal(events[1], 'update 3 KGS')
})

t.test('backs off exponentially with full jitter while the server is down', async (t) => {
  const app = await build(t)
  const host = await listen(app)
  await app.close() // a port nobody listens on any more
  const draws = [0.5, 0.5, 0.5, 0.5, 0.5, 0.9]
  let i = 0
  const { c, statuses } = client(t, {
    url: `ws://${host}/v1/ws`,
    backoff: { initialMs: 20, maxMs: 100, factor: 2 },
    random: () => draws[i++ % draws.length] as number
  })
  await until(() => statuses.filter((s) => s.connection === 'waiting').length >= 6, { timeoutMs: 5000 })
  c.close()
  const delays = statuses.filter((s) => s.connection === 'waiting').map((s) => s.retryInMs)
  t.same(delays.slice(0, 6), [10, 20, 40, 50, 50, 90], 'uniform in [0, min(max, initial × 2^attempt))')
  t.equal(c.status().connection, 'closed')

  const spread = Array.from({ length: 200 }, () => backoffDelay(3, { initialMs: 1000, maxMs: 30_000 }))
  t.ok(spread.every((d) => d >= 0 && d < 8000), 'within the cap of attempt 3')
  t.ok(new Set(spread).size > 150, 'clients do not retry in step')
})

t.test('reconnects when the link goes silent for longer than the heartbeat timeout', async (t) => {
  const app = await build(t) // heartbeats every 25 s: the client below expects one within 300 ms
  const seen = upgrades(app)
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const { c } = client(t, { url: `ws://${host}/v1/ws`, heartbeatTimeoutMs: 300, backoff: { initialMs: 10, maxMs: 20 } })
  await until(() => seen.urls.length >= 2, { timeoutMs: 3000, what: 'a second connection' })
  t.equal(seen.urls[1], '/v1/ws?since=1')
  c.close()
})

t.test('close() stops for good', async (t) => {
  const app = await build(t)
  const seen = upgrades(app)
  const host = await listen(app)
  const { c } = client(t, { url: `ws://${host}/v1/ws`, backoff: { initialMs: 10, maxMs: 10 } })
  await until(() => c.status().connection === 'open', { timeoutMs: 5000 })
  c.close()
  await until(() => seen.sockets[0]?.readyState === seen.sockets[0]?.CLOSED, { timeoutMs: 5000 })
  t.equal(seen.urls.length, 1)
  t.equal(c.status().connection, 'closed')
  t.throws(() => createTickerClient({ url: 'ws://x', WebSocket: undefined }), /no WebSocket implementation/,
    'Node 20 has no global WebSocket: the constructor must be given')
})

t.test('retry hints', async (t) => {
  t.equal(retryHint(1012, 'restart; retry in 12345 ms'), 12345)
  t.equal(retryHint(1013, 'slow consumer; retry in 2000 ms'), 2000)
  t.equal(retryHint(1006, 'retry in 5 ms'), undefined)
  t.equal(retryHint(1012, 'restart'), undefined)
  t.equal(retryHint(1012, 'retry in 999999999 ms'), 600_000, 'capped')
})
