import t from 'tap'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { build } from '../support/build.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { SnapshotSchema, RateSchema } from '../../src/domain/rate.js'

t.test('before the first snapshot /v1/rates is 503 with Retry-After', async (t) => {
  const app = await build(t)
  const res = await app.inject('/v1/rates')
  t.equal(res.statusCode, 503)
  t.ok(Number(res.headers['retry-after']) > 0)
  t.match(res.json(), { error: 'RATES_NOT_READY', message: /no snapshot/ })
})

t.test('/v1/rates serves the snapshot with ETag, Cache-Control and 304', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  const res = await app.inject('/v1/rates')
  t.equal(res.statusCode, 200)
  const body = SnapshotSchema.parse(res.json())
  t.equal(body.seq, 1)
  t.same(body.rates.map((r) => r.pair), ['KGS/USD', 'KZT/USD', 'TJS/USD', 'UZS/USD', 'TMT/USD'])
  t.equal(res.headers.etag, '"1"')
  t.match(res.headers['cache-control'], /public/)
  t.match(res.headers['cache-control'], /max-age=\d+/)
  const again = await app.inject({ url: '/v1/rates', headers: { 'if-none-match': '"1"' } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')

  await app.store.publish(publishInput(fiveRates({ KZT: 510.5 })))
  const stale = await app.inject({ url: '/v1/rates', headers: { 'if-none-match': '"1"' } })
  t.equal(stale.statusCode, 200, 'a new seq invalidates the old ETag')
  t.equal(stale.headers.etag, '"2"')
})

t.test('a 304 promises no body: a keep-alive connection carries on to the next answer', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  await app.listen({ port: 0, host: '127.0.0.1' })
  let connections = 0
  app.server.on('connection', () => { connections++ })
  // one connection, so a 304 whose headers announce a body would leave the next answer unread
  const pool = new Pool(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, { connections: 1, pipelining: 1, headersTimeout: 5_000, bodyTimeout: 5_000 })
  t.teardown(() => pool.destroy())
  const cases: Array<[string, string]> = [
    ['/v1/rates', '"1"'],
    ['/v1/rates?symbols=UZS,KZT', '"1-KZT.UZS"'],
    ['/v1/rates/KZT', 'W/"1-KZT", "0"'],
    ['/v1/rates', '*']
  ]
  for (const [path, tag] of cases) {
    const notModified = await pool.request({ path, method: 'GET', headers: { 'if-none-match': tag } })
    t.equal(notModified.statusCode, 304, `${path} ${tag}`)
    t.equal(notModified.headers['content-length'], undefined, `${path}: no content-length on a 304`)
    t.equal(await notModified.body.text(), '')
    t.ok(notModified.headers.etag, 'the 304 names the current ETag')
    const full = await pool.request({ path, method: 'GET' })
    t.equal(full.statusCode, 200, `${path} answered after the 304`)
    t.equal(Number(full.headers['content-length']), Buffer.byteLength(await full.body.text()))
  }
  t.equal(connections, 1, 'every answer came on the one keep-alive connection')
})

t.test('symbols filters the rates and keys the ETag', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  const res = await app.inject('/v1/rates?symbols=uzs,KZT')
  t.equal(res.statusCode, 200)
  t.same(res.json().rates.map((r: { base: string }) => r.base), ['KZT', 'UZS'])
  t.not(res.headers.etag, '"1"')
  const cached = await app.inject({ url: '/v1/rates?symbols=KZT,UZS', headers: { 'if-none-match': res.headers.etag as string } })
  t.equal(cached.statusCode, 304, 'the same filter in another order has the same ETag')
})

t.test('bad parameters are 400 naming the parameter', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  for (const url of ['/v1/rates?symbols=EUR', '/v1/rates?symbols=K1', '/v1/rates?symbols=', '/v1/rates?sybmols=KZT', '/v1/history/KZT?days=0', '/v1/history/KZT?days=abc', '/v1/rates/K1']) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 400, url)
    const body = res.json()
    t.equal(body.error, 'RATES_BAD_REQUEST', url)
    const param = /sybmols/.test(url) ? 'sybmols' : /days/.test(url) ? 'days' : /rates\/K1/.test(url) ? 'base' : 'symbols'
    t.match(body.message, param, `${url} names ${param}`)
  }
})

t.test('/v1/rates/:base serves one rate; unknown currencies are 404', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  const res = await app.inject('/v1/rates/kzt')
  t.equal(res.statusCode, 200)
  const rate = RateSchema.parse(res.json())
  t.equal(rate.pair, 'KZT/USD')
  t.equal(rate.inverse, 509.87)
  t.ok(Math.abs(rate.price * rate.inverse - 1) < 1e-12)
  const missing = await app.inject('/v1/rates/EUR')
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { error: 'RATES_NOT_FOUND', message: /EUR\/USD/ })
})

t.test('/v1/history/:base lists fixings oldest first, limited by days', async (t) => {
  // days counts calendar days back from the app's UTC date
  const app = await build(t, { now: () => new Date('2025-11-26T12:00:00Z') })
  for (const [date, kzt] of [['2025-11-24', 512], ['2025-11-25', 511.62], ['2025-11-26', 509.87]] as const) {
    await app.store.publish(publishInput(fiveRates({ KZT: kzt }).map((r) => ({ ...r, date }))))
  }
  const all = await app.inject('/v1/history/KZT')
  t.equal(all.statusCode, 200)
  t.same(all.json().fixings.map((f: { date: string }) => f.date), ['2025-11-24', '2025-11-25', '2025-11-26'])
  const two = await app.inject('/v1/history/KZT?days=2')
  t.same(two.json().fixings.map((f: { inverse: number }) => f.inverse), [511.62, 509.87])
  t.equal((await app.inject('/v1/history/EUR')).statusCode, 404)
})

t.test('health and readiness', async (t) => {
  const app = await build(t)
  t.equal((await app.inject('/healthz')).statusCode, 200)
  const before = await app.inject('/readyz')
  t.equal(before.statusCode, 503)
  t.match(before.json(), { status: 'not ready', reasons: ['no snapshot yet'] })
  await app.store.publish(publishInput(fiveRates()))
  const after = await app.inject('/readyz')
  t.equal(after.statusCode, 200)
  t.match(after.json(), { status: 'ready', seq: 1 })
  await app.store.publish(publishInput(fiveRates().map((r) => ({ ...r, stale: true }))))
  const stale = await app.inject('/readyz')
  t.equal(stale.statusCode, 503)
  t.match(stale.json().reasons, ['every rate is stale'])
  // the peg is never stale: it must not keep an instance whose feeds are all dead looking ready
  await app.store.publish(publishInput(fiveRates().map((r) => ({ ...r, stale: r.cadence !== 'peg' }))))
  const pegOnly = await app.inject('/readyz')
  t.equal(pegOnly.statusCode, 503)
  t.match(pegOnly.json().reasons, ['every rate is stale'])
})

t.test('metrics and OpenAPI are served', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  await app.inject('/v1/rates')
  const metrics = await app.inject('/metrics')
  t.equal(metrics.statusCode, 200)
  t.match(metrics.body, /fx_http_request_seconds_count\{method="GET",route="\/v1\/rates",status="200"\} 1/)
  t.match(metrics.body, /fx_rate_age_seconds\{pair="KZT\/USD",stale="false"\}/)
  t.match(metrics.body, /fx_snapshot_seq 1/)
  const openapi = await app.inject('/openapi.json')
  t.equal(openapi.statusCode, 200)
  const doc = openapi.json()
  t.ok(doc.paths['/v1/rates'], 'documents /v1/rates')
  t.ok(doc.paths['/v1/history/{base}'], 'documents /v1/history/{base}')
})

t.test('CORS headers follow CORS_ORIGINS', async (t) => {
  const app = await build(t, { env: { CORS_ORIGINS: 'https://news.example' } })
  await app.store.publish(publishInput(fiveRates()))
  const ok = await app.inject({ url: '/v1/rates', headers: { origin: 'https://news.example' } })
  t.equal(ok.headers['access-control-allow-origin'], 'https://news.example')
  const foreign = await app.inject({ url: '/v1/rates', headers: { origin: 'https://evil.example' } })
  t.equal(foreign.headers['access-control-allow-origin'], undefined)
})

t.test('the AsyncAPI document describes both push channels from the zod schemas', async (t) => {
  const app = await build(t)
  const res = await app.inject('/asyncapi.json')
  t.equal(res.statusCode, 200)
  const doc = res.json()
  t.equal(doc.asyncapi, '3.0.0')
  t.same(Object.values(doc.channels).map((c) => (c as { address: string }).address), ['/v1/ws', '/v1/stream'])
  t.same(doc.components.messages.heartbeat.payload.properties.status.enum, ['live', 'idle'])
  t.same(doc.components.messages.subscribe.payload.required.sort(), ['symbols', 'type'])
})

t.test('REST requests are rate limited per address; health and push are not', async (t) => {
  const app = await build(t, { env: { FX_RATE_LIMIT_PER_MIN: '3' } })
  await app.store.publish(publishInput(fiveRates()))
  for (let i = 0; i < 3; i++) t.equal((await app.inject('/v1/rates')).statusCode, 200)
  const limited = await app.inject('/v1/rates/KZT')
  t.equal(limited.statusCode, 429)
  t.ok(Number(limited.headers['retry-after']) > 0)
  t.match(limited.json(), { error: 'RATES_RATE_LIMITED', message: /3 requests a minute/ })
  for (let i = 0; i < 5; i++) t.equal((await app.inject('/healthz')).statusCode, 200)
  t.equal((await app.inject({ url: '/v1/rates', remoteAddress: '203.0.113.5' })).statusCode, 200, 'another address has its own budget')
  const off = await build(t, { env: { FX_RATE_LIMIT_PER_MIN: '0' } })
  await off.store.publish(publishInput(fiveRates()))
  for (let i = 0; i < 10; i++) t.equal((await off.inject('/v1/rates')).statusCode, 200)
})
