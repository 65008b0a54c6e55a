import t from 'tap'
import helmet from '@fastify/helmet'
import Fastify from 'fastify'
import { serializerCompiler } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { RatesError } from '../../src/domain/errors.js'
import { helmetHeaders } from '../../src/plugins/security-headers.js'
import type { Snapshot } from '../../src/domain/rate.js'
import { restResponses } from '../../src/routes/schemas.js'
import { rememberingValidatorCompiler } from '../../src/routes/validation.js'
import { createViews } from '../../src/routes/views.js'
import { createMemoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/store.js'
import { build } from '../support/build.js'
import { fiveRates, publishInput } from '../support/snapshot.js'

/** The bytes fastify-type-provider-zod would send for `value` under a documented response. */
function schemaBytes (response: { content: { 'application/json': { schema: z.ZodType } } }, value: unknown): string {
  const serialize = serializerCompiler({ schema: response.content['application/json'].schema, method: 'GET', url: '/' } as never) as (data: unknown) => string
  return serialize(value)
}

// the fixings below are dated 2025-11-25 and 26; history ranges count days back from the app's UTC date
const NOW = { now: () => new Date('2025-11-26T12:00:00Z') }

t.test('the pre-built bodies are the bytes the documented schemas produce', async (t) => {
  const app = await build(t, NOW)
  for (const [date, kzt] of [['2025-11-25', 511.62], ['2025-11-26', 509.87]] as const) {
    await app.store.publish(publishInput(fiveRates({ KZT: kzt }).map((r) => ({ ...r, date }))))
  }
  const snapshot = app.store.snapshot() as Snapshot
  t.equal((await app.inject('/v1/rates')).body, schemaBytes(restResponses.snapshot, snapshot))
  const filtered = await app.inject('/v1/rates?symbols=UZS,kzt')
  t.equal(filtered.headers['content-type'], 'application/json; charset=utf-8')
  t.equal(filtered.body, schemaBytes(restResponses.snapshot, { ...snapshot, rates: snapshot.rates.filter((r) => ['KZT', 'UZS'].includes(r.base)) }))
  t.equal((await app.inject('/v1/rates/KZT')).body, schemaBytes(restResponses.rate, snapshot.rates.find((r) => r.base === 'KZT')))
  const history = await app.inject('/v1/history/KZT?days=1')
  t.equal(history.body, schemaBytes(restResponses.history, { pair: 'KZT/USD', base: 'KZT', quote: 'USD', fixings: app.store.history('KZT').slice(-1) }))
})

/** A memory store whose snapshot counts how often its rates are read: serialising it reads them. */
function countingStore (): { store: Store, reads: () => number } {
  const store = createMemoryStore({ quote: 'USD' })
  let reads = 0
  let seen: Snapshot | undefined
  let counted: Snapshot | undefined
  const snapshot = (): Snapshot | undefined => {
    const s = store.snapshot()
    if (s !== seen) {
      seen = s
      counted = s === undefined ? undefined : Object.defineProperty({ ...s }, 'rates', { enumerable: true, get: () => { reads++; return s.rates } })
    }
    return counted
  }
  return { store: { ...store, snapshot }, reads: () => reads }
}

t.test('a snapshot is serialised once per seq and filter, not per request', async (t) => {
  const { store, reads } = countingStore()
  const app = await build(t, { store })
  await app.store.publish(publishInput(fiveRates()))
  const round = async (): Promise<void> => {
    t.equal((await app.inject('/v1/rates')).statusCode, 200)
    t.equal((await app.inject('/v1/rates?symbols=KZT,UZS')).statusCode, 200)
    t.equal((await app.inject({ url: '/v1/rates', headers: { 'if-none-match': '"1"' } })).statusCode, 304)
    t.equal((await app.inject('/v1/rates/KZT')).statusCode, 200)
  }
  await round()
  const perSeq = reads()
  t.ok(perSeq > 0, 'the first requests build the bodies')
  for (let i = 0; i < 20; i++) await round()
  t.equal(reads(), perSeq, 'the next 80 requests read nothing more from the snapshot')
  await app.store.publish(publishInput(fiveRates({ KZT: 510.5 })))
  const fresh = await app.inject('/v1/rates/KZT')
  t.equal(fresh.json().inverse, 510.5, 'a new seq is served at once')
  t.equal(fresh.headers.etag, '"2-KZT"')
  t.ok(reads() > perSeq, 'and built anew')
})

t.test('cached bodies are bounded and keyed by the normalised filter', async (t) => {
  const store = createMemoryStore({ quote: 'USD' })
  await store.publish(publishInput(fiveRates()))
  const views = createViews({ snapshot: store.snapshot, maxEntries: 2 })
  const a = views.rates(['KZT', 'UZS'])
  t.equal(views.rates(['UZS', 'KZT', 'KZT']), a, 'another spelling of the same filter shares its body')
  t.equal(a?.etag, '"1-KZT.UZS"')
  views.rates(['KGS'])
  views.rates(['TJS'])
  views.rates(['TMT'])
  t.not(views.rates(['KZT', 'UZS']), a, 'the oldest filters made room')
  t.equal(views.rates(undefined), views.rates(undefined), 'the full snapshot is built once')
})

t.test('a snapshot that fails its schema is never served', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  const bad = fiveRates({ KZT: -509.87 })
  await t.rejects(app.store.publish(publishInput(bad)), { code: 'RATES_STORE' }, 'the store refuses it')
  t.equal((await app.inject('/v1/rates')).headers.etag, '"1"', 'the last valid snapshot is still served')
  // and were an engine to hand one over, the build-time check refuses to serialise it
  const invalid = { ...(app.store.snapshot() as Snapshot), rates: bad }
  const views = createViews({ snapshot: () => invalid })
  t.throws(() => views.rates(undefined), new RatesError('RATES_INTERNAL', 'a stored value does not match its response schema'))
  t.throws(() => views.rate('KZT'), { code: 'RATES_INTERNAL' })
  const served = await build(t, { store: { ...createMemoryStore({ quote: 'USD' }), snapshot: () => invalid } })
  const res = await served.inject('/v1/rates')
  t.equal(res.statusCode, 500)
  t.same(res.json(), { error: 'RATES_INTERNAL', message: 'internal error' })
})

t.test('history bodies follow the stored fixings', async (t) => {
  const app = await build(t, NOW)
  await app.store.publish(publishInput(fiveRates().map((r) => ({ ...r, date: '2025-11-25' }))))
  t.equal((await app.inject('/v1/history/KZT?days=5')).json().fixings.length, 1)
  await app.store.publish(publishInput(fiveRates({ KZT: 510 }).map((r) => ({ ...r, date: '2025-11-26' }))))
  const two = (await app.inject('/v1/history/KZT?days=5')).json()
  t.same(two.fixings.map((f: { inverse: number }) => f.inverse), [509.87, 510])
})

t.test('helmet headers worked out once are the ones the plugin sets per request', async (t) => {
  const options = { crossOriginResourcePolicy: { policy: 'cross-origin' as const }, contentSecurityPolicy: { directives: { 'connect-src': ["'self'", 'ws:'] } } }
  const headers = await helmetHeaders(options)
  const reference = Fastify({ logger: false })
  t.teardown(() => reference.close())
  await reference.register(helmet, options)
  reference.get('/', async () => 'ok')
  const res = await reference.inject('/')
  t.ok(Object.keys(headers).length >= 10, 'the whole set')
  for (const [name, value] of Object.entries(headers)) t.equal(res.headers[name], value, name)
  const app = await build(t)
  for (const url of ['/v1/rates', '/healthz', '/nope']) {
    const served = await app.inject(url)
    for (const name of Object.keys(headers)) t.ok(served.headers[name], `${url} has ${name}`)
  }
})

t.test('query strings and path parameters are validated once per spelling, refusals every time', async (t) => {
  let runs = 0
  const schema = z.object({ symbols: z.string().transform((s) => { runs++; return s.split(',') }) })
  const validate = rememberingValidatorCompiler(2)({ schema, method: 'GET', url: '/', httpPart: 'querystring' }) as (data: unknown) => { value?: unknown, error?: unknown }
  const first = validate({ symbols: 'KZT,UZS' })
  t.same(first.value, { symbols: ['KZT', 'UZS'] })
  t.equal(validate({ symbols: 'KZT,UZS' }), first, 'remembered')
  t.equal(runs, 1)
  t.ok(Object.isFrozen(first.value) && Object.isFrozen((first.value as { symbols: string[] }).symbols), 'shared values are frozen')
  t.ok(validate({ symbols: ['KZT', 'UZS'] }).error, 'a repeated parameter is not the comma-separated one')
  t.ok(validate({ symbols: ['KZT', 'UZS'] }).error, 'and is refused again')
  validate({ symbols: 'KGS' })
  validate({ symbols: 'TJS' })
  validate({ symbols: 'KZT,UZS' })
  t.equal(runs, 4, 'the oldest made room')

  const app = await build(t, NOW)
  await app.store.publish(publishInput(fiveRates()))
  t.equal((await app.inject('/v1/rates?symbols=KZT,UZS')).statusCode, 200)
  t.equal((await app.inject('/v1/rates?symbols=KZT&symbols=UZS')).statusCode, 400)
  t.equal((await app.inject('/v1/rates?symbols=KZT,EUR')).statusCode, 400)
  t.equal((await app.inject('/v1/history/KZT?days=2')).json().fixings.length, 1)
  t.equal((await app.inject('/v1/history/KZT?days=0')).statusCode, 400)
  t.equal((await app.inject('/v1/rates/kzt')).json().base, 'KZT')
  t.equal((await app.inject('/v1/rates/kzt')).json().base, 'KZT')
})
