import t from 'tap'
import { build } from '../support/build.js'
import { fiveRates, publishInput, rate } from '../support/snapshot.js'
import { connect, listen, metric, refusal } from './clients.js'

const NOW = new Date('2025-11-26T12:00:00.000Z')

t.test('a client connecting after the first publish gets the whole snapshot', async (t) => {
  const app = await build(t, { now: () => NOW })
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const c = connect(t, `ws://${host}/v1/ws`)
  const m = await c.next()
  t.equal(m.type, 'snapshot')
  t.match(m, { seq: 1 })
  t.same(m.type === 'snapshot' && m.rates.map((r) => r.pair), ['KGS/USD', 'KZT/USD', 'TJS/USD', 'UZS/USD', 'TMT/USD'])
  t.equal(await metric(app, 'clients', { transport: 'ws' }), 1)
})

t.test('before the first snapshot a client gets an idle heartbeat at seq 0, then the snapshot when published', async (t) => {
  const app = await build(t, { now: () => NOW })
  const host = await listen(app)
  const c = connect(t, `ws://${host}/v1/ws?symbols=KZT`)
  t.same(await c.next(), { type: 'heartbeat', seq: 0, status: 'idle', nextExpectedAt: null })
  await app.store.publish(publishInput(fiveRates()))
  const m = await c.next()
  t.match(m, { type: 'snapshot', seq: 1 })
  t.same(m.type === 'snapshot' && m.rates.map((r) => r.pair), ['KZT/USD'])
})

t.test('a publish reaches subscribed clients as an update of only the changed rates, and nobody else', async (t) => {
  const app = await build(t, { now: () => NOW })
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const all = connect(t, `ws://${host}/v1/ws`)
  const kzt = connect(t, `ws://${host}/v1/ws?symbols=kzt,UZS`)
  const tmt = connect(t, `ws://${host}/v1/ws?symbols=TMT`)
  for (const c of [all, kzt, tmt]) t.equal((await c.next()).type, 'snapshot')

  await app.store.publish(publishInput(fiveRates({ KZT: 510.12 })))
  const u = await all.next()
  t.match(u, { type: 'update', seq: 2 })
  t.same(u.type === 'update' && u.rates.map((r) => [r.pair, r.inverse]), [['KZT/USD', 510.12]])
  const k = await kzt.next()
  t.same(k, u, 'the same message for every filter the change concerns')

  // a change that concerns TMT only now: the KZT,UZS client gets nothing, the TMT client gets it
  await app.store.publish(publishInput(fiveRates({ KZT: 510.12, TMT: 3.5 }).map((r) => r.base === 'TMT' ? { ...r, stale: true } : r)))
  t.match(await tmt.next(), { type: 'update', seq: 3, rates: [{ pair: 'TMT/USD', stale: true }] })
  t.match(await all.next(), { type: 'update', seq: 3 })
  t.same(tmt.received.map((m) => m.type), ['snapshot', 'update'], 'the KZT change never reached the TMT client')
  t.same(kzt.received.map((m) => m.type), ['snapshot', 'update'], 'the TMT change never reached the KZT,UZS client')
  t.ok(await metric(app, 'messagesSent', { transport: 'ws', type: 'update' }) >= 4)
})

t.test('a publish that changes no published field sends nothing', async (t) => {
  const app = await build(t, { now: () => NOW })
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const c = connect(t, `ws://${host}/v1/ws`)
  await c.next('snapshot')
  // a fresh but equal object, with a key order of its own
  await app.store.publish(publishInput(fiveRates().map((r) => Object.fromEntries(Object.entries(r).reverse()) as typeof r)))
  await app.store.publish(publishInput(fiveRates({ UZS: 12050 })))
  t.match(await c.next(), { type: 'update', seq: 3, rates: [{ pair: 'UZS/USD' }] })
})

t.test('a subscribe message changes the filter and is answered with a snapshot of those symbols', async (t) => {
  const app = await build(t, { now: () => NOW })
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const c = connect(t, `ws://${host}/v1/ws?symbols=KGS`)
  await c.opened
  t.match(await c.next(), { type: 'snapshot', rates: [{ pair: 'KGS/USD' }] })
  c.ws.send(JSON.stringify({ type: 'subscribe', symbols: ['UZS', 'TJS'] }))
  const s = await c.next()
  t.same(s.type === 'snapshot' && s.rates.map((r) => r.pair), ['TJS/USD', 'UZS/USD'])
  await app.store.publish(publishInput(fiveRates({ KGS: 88 })))
  await app.store.publish(publishInput(fiveRates({ KGS: 88, TJS: 9.2 })))
  t.match(await c.next(), { type: 'update', seq: 3, rates: [{ pair: 'TJS/USD' }] }, 'the KGS change was not sent')
})

t.test('since: the current seq gets a lone heartbeat, an old or unknown one a snapshot', async (t) => {
  const app = await build(t, { now: () => NOW })
  await app.store.publish(publishInput(fiveRates()))
  await app.store.publish(publishInput(fiveRates({ KZT: 511 })))
  const host = await listen(app)
  const current = connect(t, `ws://${host}/v1/ws?since=2`)
  t.same(await current.next(), { type: 'heartbeat', seq: 2, status: 'live', nextExpectedAt: '2025-11-27T00:00:00.000Z' })
  const old = connect(t, `ws://${host}/v1/ws?since=1&symbols=KZT`)
  t.match(await old.next(), { type: 'snapshot', seq: 2, rates: [{ pair: 'KZT/USD', inverse: 511 }] })
  const ahead = connect(t, `ws://${host}/v1/ws?since=9`)
  t.match(await ahead.next(), { type: 'snapshot', seq: 2 }, 'a seq from another life of the store gets a snapshot')
  await app.store.publish(publishInput(fiveRates({ KZT: 512 })))
  t.match(await current.next(), { type: 'update', seq: 3 })
})

t.test('heartbeats arrive every WS_HEARTBEAT_MS with status and the next expected fixing', async (t) => {
  const app = await build(t, { now: () => NOW, env: { WS_HEARTBEAT_MS: '200' } })
  await app.store.publish(publishInput([
    rate('KZT', 510, { nextExpectedAt: '2025-11-26T09:00:00.000Z' }), // already past: not a future fixing
    rate('UZS', 12041, { nextExpectedAt: '2025-11-28T03:00:00.000Z' }),
    rate('KGS', 87.45, { nextExpectedAt: '2025-11-27T06:00:00.000Z', stale: true })
  ]))
  const host = await listen(app)
  const all = connect(t, `ws://${host}/v1/ws`)
  const kgs = connect(t, `ws://${host}/v1/ws?symbols=KGS`)
  await all.next('snapshot')
  await kgs.next('snapshot')
  const started = Date.now()
  const beats = [await all.next('heartbeat', 2000), await all.next('heartbeat', 2000), await all.next('heartbeat', 2000)]
  const elapsed = Date.now() - started
  t.ok(elapsed >= 300 && elapsed < 1500, `three heartbeats in ${elapsed} ms at a 200 ms interval`)
  t.same(beats[0], { type: 'heartbeat', seq: 1, status: 'live', nextExpectedAt: '2025-11-27T06:00:00.000Z' })
  t.same(await kgs.next('heartbeat', 2000), { type: 'heartbeat', seq: 1, status: 'idle', nextExpectedAt: '2025-11-27T06:00:00.000Z' },
    'status and next fixing are those of the client\'s symbols: KGS alone is stale')
})

t.test('the peg alone does not make a feed of dead floating rates look live', async (t) => {
  const app = await build(t, { env: { WS_HEARTBEAT_MS: '100' } })
  await app.store.publish(publishInput([
    rate('KZT', 510, { stale: true }),
    rate('TMT', 3.5, { cadence: 'peg', nextExpectedAt: null })
  ]))
  const host = await listen(app)
  const all = connect(t, `ws://${host}/v1/ws`)
  const tmt = connect(t, `ws://${host}/v1/ws?symbols=TMT`)
  await all.next('snapshot')
  await tmt.next('snapshot')
  t.match(await all.next('heartbeat', 2000), { status: 'idle' })
  t.match(await tmt.next('heartbeat', 2000), { status: 'live' }, 'a client that follows only the peg is told it is current')
})

t.test('the query is checked before the upgrade: 400 naming the parameter', async (t) => {
  const app = await build(t)
  const host = await listen(app)
  const unknown = await refusal(t, `ws://${host}/v1/ws?symbols=KZT,EUR`)
  t.equal(unknown.status, 400)
  t.match(JSON.parse(unknown.body), { error: 'RATES_BAD_REQUEST', message: /symbols: unknown currency EUR/ })
  const since = await refusal(t, `ws://${host}/v1/ws?since=yesterday`)
  t.equal(since.status, 400)
  t.match(JSON.parse(since.body), { message: /since/ })
  t.equal((await refusal(t, `ws://${host}/v1/ws?symbols=K1`)).status, 400)
  t.equal((await refusal(t, `ws://${host}/v1/ws?foo=1`)).status, 400)
  const plain = await app.inject({ url: '/v1/ws' })
  t.equal(plain.statusCode, 426, 'a plain GET is told to upgrade')
  t.equal(await metric(app, 'clients', { transport: 'ws' }), 0)
})
