import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { request } from 'node:http'
import { Writable } from 'node:stream'
import { addDays } from '../../src/domain/dates.js'
import type { Fixing } from '../../src/domain/rate.js'
import { createMemoryStore } from '../../src/store/memory.js'
import { EMPTY_STATE } from '../../src/store/state.js'
import type { Store } from '../../src/store/store.js'
import { buildApp } from '../../src/app.js'
import { createFastLane } from '../../src/routes/fast-lane.js'
import { testConfig } from '../support/build.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { NOW, TODAY, seeded } from './history-seed.js'

interface Answer { status: number, headers: Record<string, string>, body: string }

/** The service on a loopback port, its requests through Fastify counted; a fast-lane answer is not. */
interface Teardown { teardown: (fn: () => unknown) => void }

async function serve (t: Teardown, options: { env?: Record<string, string>, debug?: boolean, now?: () => Date, store?: Store } = {}): Promise<{ app: FastifyInstance, origin: string, routed: () => number }> {
  const store = options.store ?? createMemoryStore({ quote: 'USD', initial: { ...EMPTY_STATE, history: seeded() }, historyDays: 400 })
  const sink = new Writable({ write (_c, _e, cb) { cb() } })
  const config = testConfig({ FX_RATE_LIMIT_PER_MIN: '1000', ...options.env })
  const app = await buildApp({ config, store, sources: [], now: options.now ?? (() => NOW), logger: options.debug === true ? pino({ level: 'debug' }, sink) : false })
  t.teardown(() => app.close())
  let routed = 0
  app.addHook('onRequest', (_request, _reply, done) => { routed++; done() })
  if (store.snapshot() === undefined) await store.publish(publishInput(fiveRates()))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  return { app, origin: `http://127.0.0.1:${port}`, routed: () => routed }
}

async function ask (origin: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(origin + path, { headers })
  const out: Record<string, string> = {}
  // the clock's header and the budget's count and reset differ by when a request came; the rest may not
  const reset = res.headers.get('x-ratelimit-reset')
  if (reset !== null && !(Number(reset) >= 1 && Number(reset) <= 60)) throw new Error(`x-ratelimit-reset: ${reset}`)
  res.headers.forEach((v, k) => { if (!['date', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'keep-alive', 'connection'].includes(k)) out[k] = v })
  return { status: res.status, headers: out, body: await res.text() }
}

const PATHS = [
  '/v1/rates', '/v1/rates?symbols=KZT,UZS', '/v1/rates?symbols=UZS,KZT&', '/v1/%72ates', '/v1/rates/KZT', '/v1/rates/TMT',
  '/v1/history/KZT', '/v1/history/KZT?days=30', '/v1/history/KZT?format=csv', '/v1/history?symbols=UZS,KZT&from=2026-01-05',
  // refusals and answers that are not remembered
  '/v1/rates?symbols=XXX', '/v1/rates/XXX', '/v1/rates/KZT?at=2026-03-13', '/v1/history/KZT?days=0', '/v1/nothing'
]
const REQUEST_HEADERS: Array<Record<string, string>> = [
  {}, { origin: 'https://news.example' }, { origin: 'https://other.example' }, { accept: 'text/csv' }, { 'if-none-match': '*' }
]

t.test('a repeated request gets from the fast lane the status, headers and bytes the routes give', async (t) => {
  const env = { FX_CORS_ORIGINS: 'https://news.example' }
  const store = createMemoryStore({ quote: 'USD', initial: { ...EMPTY_STATE, history: seeded() }, historyDays: 400 })
  const fast = await serve(t, { env, store })
  // with access logging at debug, every request goes through the routes: the reference, on the same data
  const routes = await serve(t, { env, debug: true, store })
  let asked = 0
  const reference = async (path: string, headers: Record<string, string>): Promise<Answer> => { asked++; return await ask(routes.origin, path, headers) }
  for (const path of PATHS) {
    for (const headers of REQUEST_HEADERS) {
      const label = `${path} ${JSON.stringify(headers)}`
      const first = await ask(fast.origin, path, headers)
      const before = fast.routed()
      const again = await ask(fast.origin, path, headers)
      t.same(again, await reference(path, headers), label)
      t.same(again, first, `${label}: the same answer twice`)
      if (first.status === 200 && !path.includes('at=')) t.equal(fast.routed(), before, `${label}: answered by the fast lane`)
      const tag = first.headers.etag
      if (tag === undefined || first.status !== 200) continue
      const notModified = await ask(fast.origin, path, { ...headers, 'if-none-match': `W/"x", ${tag}` })
      t.same(notModified, await reference(path, { ...headers, 'if-none-match': `W/"x", ${tag}` }), `${label}: 304`)
      t.equal(notModified.status, 304)
    }
  }
  t.equal(routes.routed(), asked, 'the reference went through the routes every time')
})

t.test('an answer is replayed only while the data and the date behind it are current', async (t) => {
  let now = NOW
  const { app, origin, routed } = await serve(t, { now: () => now })
  const first = await ask(origin, '/v1/rates/KZT')
  await ask(origin, '/v1/rates/KZT')
  await app.store.publish(publishInput(fiveRates({ KZT: 512.34 })))
  const before = routed()
  const next = await ask(origin, '/v1/rates/KZT')
  t.equal(routed(), before + 1, 'a new snapshot: the routes answer')
  t.not(next.headers.etag, first.headers.etag)
  t.equal(JSON.parse(next.body).inverse, 512.34)

  const history = await ask(origin, '/v1/history/KZT?days=5')
  const kzt = seeded().KZT as Fixing[]
  const last = kzt[kzt.length - 1] as Fixing
  await app.store.saveArchive({ archive: {}, fixings: { KZT: [{ ...last, inverse: last.inverse + 1, price: 1 / (last.inverse + 1) }] } })
  const corrected = await ask(origin, '/v1/history/KZT?days=5')
  t.not(corrected.body, history.body, 'a corrected fixing is served at once')
  t.equal(JSON.parse(corrected.body).fixings.at(-1).inverse, last.inverse + 1)

  await ask(origin, '/v1/history/KZT?days=5')
  now = new Date(`${addDays(TODAY, 1)}T00:00:01Z`)
  const tomorrow = await ask(origin, '/v1/history/KZT?days=5')
  t.not(JSON.parse(tomorrow.body).fixings[0].date, JSON.parse(corrected.body).fixings[0].date, 'a new day moves the range')
})

t.test('the fast lane spends the routes\' per-address budget and leaves the refusal to them', async (t) => {
  const { origin, routed, app } = await serve(t, { env: { FX_RATE_LIMIT_PER_MIN: '3' } })
  const remaining: string[] = []
  for (let i = 0; i < 3; i++) {
    const res = await fetch(origin + '/v1/rates')
    await res.arrayBuffer()
    t.equal(res.status, 200)
    remaining.push(res.headers.get('x-ratelimit-remaining') ?? '')
  }
  t.same(remaining, ['2', '1', '0'])
  t.equal(routed(), 1, 'two of three from the fast lane')
  const refused = await fetch(origin + '/v1/rates')
  t.equal(refused.status, 429)
  t.ok(Number(refused.headers.get('retry-after')) > 0)
  t.match(await refused.json(), { error: 'RATES_RATE_LIMITED' })
  const metrics = (await app.inject('/metrics')).body
  t.match(metrics, /fx_http_request_seconds_count\{method="GET",route="\/v1\/rates",status="200"\} 3/, 'every answer is in the latency histogram')
  t.match(metrics, /fx_http_request_seconds_count\{method="GET",route="\/v1\/rates",status="429"\} 1/)
})

t.test('behind a trusted proxy each forwarded client has its own budget in the fast lane too', async (t) => {
  const { origin, routed } = await serve(t, { env: { FX_RATE_LIMIT_PER_MIN: '2', FX_TRUST_PROXY: '1' } })
  const status = async (client: string): Promise<number> => {
    const res = await fetch(origin + '/v1/rates/KZT', { headers: { 'x-forwarded-for': client } })
    await res.arrayBuffer()
    return res.status
  }
  t.same([await status('198.51.100.1'), await status('198.51.100.1'), await status('198.51.100.1')], [200, 200, 429])
  t.same([await status('198.51.100.2'), await status('198.51.100.2')], [200, 200], 'another client, another budget')
  t.ok(routed() < 5, 'some answers came from the fast lane')
})

t.test('what the fast lane never answers: other methods, upgrades, bodies, a closing instance', async (t) => {
  const { app, origin, routed } = await serve(t)
  await ask(origin, '/v1/rates')
  let before = routed()
  const head = await fetch(origin + '/v1/rates', { method: 'HEAD' })
  t.equal(head.status, 200)
  t.equal(routed(), before + 1, 'HEAD goes through the routes')
  before = routed()
  const upgrade = await new Promise<number | undefined>((resolve) => {
    const req = request(origin + '/v1/rates', { agent: false, headers: { connection: 'upgrade', upgrade: 'websocket' } }, (res) => { res.resume(); resolve(res.statusCode) })
    req.on('error', () => { resolve(undefined) }).end()
  })
  t.equal(upgrade, 400, 'an upgrade on a REST route is refused, not answered with the snapshot')
  before = routed()
  const plain = async (body?: string): Promise<number | undefined> => await new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-length': String(body.length) }
    const req = request(origin + '/v1/rates', { agent: false, headers }, (res) => { res.resume(); resolve(res.statusCode) })
    req.on('error', reject).end(body)
  })
  t.same([await plain(), await plain()], [200, 200])
  t.equal(routed(), before + 1, 'the same request without a body: the second from the fast lane')
  t.equal(await plain('{}'), 200)
  t.equal(routed(), before + 2, 'a request with a body goes through the routes')
  const closing = app.close()
  const late = await fetch(origin + '/v1/rates').then(async (r) => { await r.arrayBuffer(); return r.status }, () => 'refused')
  t.not(late, 200, 'a closing instance serves no snapshot from the fast lane')
  await closing
})

t.test('the remembered answers are bounded by count and bytes, the oldest forgotten first', async (t) => {
  const written: number[] = []
  const lane = createFastLane({ observe: () => {}, logsRequests: () => false, maxEntries: 2, maxBodyBytes: 100, maxBytes: 150 })
  const remember = (url: string, body: string): void => {
    const request = { method: 'GET', raw: { url }, headers: {}, routeOptions: { url: '/v1/rates' } }
    lane.remember(request as never, { getHeaders: () => ({ etag: '"1"' }) } as never, '"1"', body, 'application/json', () => true)
  }
  const served = (url: string): boolean => {
    const res = { writeHead: (status: number) => { written.push(status) }, end: () => {} }
    return lane.serve({ method: 'GET', url, headers: {}, socket: { remoteAddress: '127.0.0.1' } } as never, res as never)
  }
  remember('/a', 'x'.repeat(60))
  remember('/b', 'x'.repeat(60))
  t.ok(served('/a') && served('/b'), 'two answers kept')
  remember('/c', 'x'.repeat(10))
  t.notOk(served('/a'), 'a third forgets the oldest')
  t.ok(served('/b') && served('/c'))
  remember('/d', 'x'.repeat(95))
  t.notOk(served('/b'), 'and so do bytes over the budget')
  t.ok(served('/c') && served('/d'))
  remember('/e', 'x'.repeat(101))
  t.notOk(served('/e'), 'a body over the limit is not kept')
  t.ok(served('/d'))
  lane.close()
  t.notOk(served('/d'), 'nothing once closed')
  t.ok(written.every((s) => s === 200))
})

t.test('with the REST limit off the fast lane answers without limit headers', async (t) => {
  const { origin, routed } = await serve(t, { env: { FX_RATE_LIMIT_PER_MIN: '0' } })
  const first = await ask(origin, '/v1/rates/KZT')
  const again = await ask(origin, '/v1/rates/KZT')
  t.equal(routed(), 1, 'the second from the fast lane')
  t.same(again, first)
  t.notOk('x-ratelimit-limit' in again.headers)
})
