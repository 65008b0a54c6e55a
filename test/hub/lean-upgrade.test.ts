import type { IncomingMessage } from 'node:http'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../support/build.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { until } from '../support/until.js'
import { connect, listen, metric, refusal } from './clients.js'
import { parseStreamParams } from '../../src/hub/lean-upgrade.js'

const SERVED = new Set(['KGS', 'KZT', 'TJS', 'UZS', 'TMT'])

/** Counts the upgrade requests that went through the framework's router. */
function routed (app: FastifyInstance): () => number {
  const framework = app as unknown as { routing: (...args: unknown[]) => void }
  const original = framework.routing
  let n = 0
  framework.routing = function (this: unknown, ...args: unknown[]) {
    n++
    original.apply(this, args)
  }
  return () => n
}

// a forwarded address is read by the framework according to FX_TRUST_PROXY: such a request takes its path
const viaFramework = { headers: { 'x-forwarded-for': '203.0.113.9' } }

t.test('the plain query spellings are read as the schema reads them; anything else is left to the schema', async (t) => {
  t.same(parseStreamParams('', SERVED), { symbols: undefined, since: undefined })
  t.same(parseStreamParams('symbols=KZT,UZS', SERVED), { symbols: ['KZT', 'UZS'], since: undefined })
  t.same(parseStreamParams('since=0042&symbols=KZT', SERVED), { symbols: ['KZT'], since: 42 })
  t.same(parseStreamParams('symbols=KZT,KZT', SERVED), { symbols: ['KZT', 'KZT'], since: undefined })
  for (const search of ['symbols=kzt', 'symbols=EUR', 'symbols=KZT&symbols=UZS', 'since=1&since=2', 'symbols=', 'symbols=KZT,',
    'symbols=KZT%2CUZS', 'symbols', 'since=-1', 'since=1.5', `since=${'9'.repeat(16)}`, 'other=1', '=KZT', 'symbols=KZT&',
    `symbols=${Array.from({ length: 33 }, () => 'KZT').join(',')}`]) {
    t.equal(parseStreamParams(search, SERVED), undefined, search)
  }
})

t.test('a plain /v1/ws upgrade skips the router; whatever it cannot take plainly is answered by the route', async (t) => {
  const app = await build(t, { env: { CORS_ORIGINS: 'https://news.example.com' } })
  await app.store.publish(publishInput(fiveRates()))
  const count = routed(app)
  const announced: string[] = []
  app.websocketServer.on('connection', (_socket: unknown, req: IncomingMessage) => { announced.push(req.url ?? '') })
  const host = await listen(app)
  const plain = connect(t, `ws://${host}/v1/ws?symbols=KZT`, { origin: 'https://news.example.com' })
  t.match(await plain.next(), { type: 'snapshot', rates: [{ pair: 'KZT/USD' }] })
  t.equal(count(), 0, 'the plain upgrade did not reach the router')
  t.same(announced, ['/v1/ws?symbols=KZT'], 'the WebSocket server announces the connection as for any upgrade')
  const lower = connect(t, `ws://${host}/v1/ws?symbols=kzt`)
  t.match(await lower.next(), { type: 'snapshot', rates: [{ pair: 'KZT/USD' }] }, 'an unusual spelling is still served, by the route')
  t.equal(count(), 1)
  t.equal((await refusal(t, `ws://${host}/v1/ws`, { origin: 'https://evil.example.net' })).status, 403)
  t.equal((await refusal(t, `ws://${host}/v1/ws?symbols=EUR`)).status, 400)
  t.equal(count(), 3, 'refusals are answered by the route')
})

t.test('a stream opened either way greets alike, holds one slot of its address and frees it on close', async (t) => {
  const app = await build(t, { env: { WS_MAX_CONNECTIONS_PER_IP: '2' } })
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  for (const query of ['', '?symbols=KZT,UZS', '?since=1', '?since=7&symbols=UZS']) {
    const lean = connect(t, `ws://${host}/v1/ws${query}`)
    const routedConn = connect(t, `ws://${host}/v1/ws${query}`, viaFramework)
    t.same(await lean.next(), await routedConn.next(), `the same greeting for ${query === '' ? 'no query' : query}`)
    const full = await refusal(t, `ws://${host}/v1/ws${query}`)
    t.equal(full.status, 429, 'the two streams fill the address\'s two slots')
    t.match(JSON.parse(full.body), { error: 'RATES_TOO_MANY_CONNECTIONS' })
    lean.ws.close()
    routedConn.ws.terminate()
    await until(async () => await metric(app, 'clients', { transport: 'ws' }) === 0, { timeoutMs: 5000, what: 'both streams gone' })
  }
  const again = [connect(t, `ws://${host}/v1/ws`), connect(t, `ws://${host}/v1/ws`)]
  for (const c of again) await c.next('snapshot')
  t.pass('every slot was freed')
})

t.test('the total limit counts both paths; over it the route answers 503', async (t) => {
  const app = await build(t, { env: { WS_MAX_CONNECTIONS: '2' } })
  const host = await listen(app)
  const a = connect(t, `ws://${host}/v1/ws`)
  const b = connect(t, `ws://${host}/v1/ws`, viaFramework)
  await a.next('heartbeat')
  await b.next('heartbeat')
  const over = await refusal(t, `ws://${host}/v1/ws`)
  t.equal(over.status, 503)
  t.match(JSON.parse(over.body), { error: 'RATES_TOO_MANY_CONNECTIONS' })
  b.ws.terminate()
  await until(async () => await metric(app, 'clients', { transport: 'ws' }) === 1, { timeoutMs: 5000, what: 'one stream left' })
  const c = connect(t, `ws://${host}/v1/ws`)
  await c.next('heartbeat')
  t.equal(await metric(app, 'clients', { transport: 'ws' }), 2)
})
