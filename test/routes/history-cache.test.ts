import t from 'tap'
import type { Fixing } from '../../src/domain/rate.js'
import { createHistoryViews, rateAt } from '../../src/routes/history-views.js'
import { RateSchema } from '../../src/domain/rate.js'
import { RateAtSchema } from '../../src/routes/schemas.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { FIRST, historyApp, seeded } from './history-seed.js'

const history = seeded()
const fixingOf = (base: string, date: string): Fixing => {
  const f = history[base]?.find((x) => x.date === date)
  if (f === undefined) throw new Error(`no seeded fixing ${base} ${date}`)
  return f
}

t.test('the ETag hashes the content: the same on two instances, changed with a fixing', async (t) => {
  const a = await historyApp(t)
  const b = await historyApp(t)
  await b.store.publish(publishInput(fiveRates())) // another seq on b: the tag does not depend on it
  const urls = ['/v1/history/KZT', '/v1/history/KZT?format=csv', '/v1/history?symbols=UZS,KZT&from=2026-01-05', '/v1/history/KZT?from=2026-01-05&to=2026-01-09', '/v1/rates/KZT?at=2026-03-14']
  const tags: string[] = []
  for (const url of urls) {
    const [ra, rb] = [await a.inject(url), await b.inject(url)]
    t.equal(ra.statusCode, 200, url)
    t.match(ra.headers.etag, /^"[\w-]{20,}"$/, `${url}: a strong tag`)
    t.equal(ra.headers.etag, rb.headers.etag, `${url}: the same on both instances`)
    t.equal(ra.body, rb.body)
    tags.push(ra.headers.etag as string)
  }
  t.equal(new Set(tags).size, tags.length, 'each answer has its own tag, JSON and CSV included')

  // the bank corrects Friday's fixing on instance b
  const friday = fixingOf('KZT', '2026-03-13')
  await b.store.saveArchive({ archive: {}, fixings: { KZT: [{ ...friday, inverse: friday.inverse + 0.5, price: 1 / (friday.inverse + 0.5) }] } })
  const changed = await b.inject('/v1/history/KZT')
  t.not(changed.headers.etag, tags[0], 'a range holding the changed fixing gets a new tag')
  t.equal(changed.json().fixings.find((f: Fixing) => f.date === '2026-03-13').inverse, friday.inverse + 0.5, 'and the new body at once')
  t.not((await b.inject(urls[1] as string)).headers.etag, tags[1])
  t.not((await b.inject(urls[4] as string)).headers.etag, tags[4], 'the rate in force that Saturday changed too')
  t.equal((await b.inject(urls[3] as string)).headers.etag, tags[3], 'a range without it keeps its tag')
  const stale = await b.inject({ url: '/v1/history/KZT', headers: { 'if-none-match': tags[0] as string } })
  t.equal(stale.statusCode, 200, 'the old tag no longer matches')
})

t.test('If-None-Match answers 304 without a body, with the caching headers', async (t) => {
  const app = await historyApp(t)
  for (const url of ['/v1/history/UZS?days=10', '/v1/history/UZS?days=10&format=csv', '/v1/history?symbols=KZT,UZS', '/v1/rates/UZS?at=2026-03-17']) {
    const first = await app.inject(url)
    const again = await app.inject({ url, headers: { 'if-none-match': first.headers.etag as string } })
    t.equal(again.statusCode, 304, url)
    t.equal(again.body, '', `${url}: no body`)
    t.equal(again.headers['content-length'], undefined)
    t.equal(again.headers.etag, first.headers.etag)
    t.equal(again.headers['cache-control'], first.headers['cache-control'])
    t.equal((await app.inject({ url, headers: { 'if-none-match': `"other", W/${first.headers.etag as string}` } })).statusCode, 304, `${url}: in a list, weakly`)
  }
  const json = await app.inject('/v1/history/KZT')
  const csv = await app.inject({ url: '/v1/history/KZT', headers: { accept: 'text/csv', 'if-none-match': json.headers.etag as string } })
  t.equal(csv.statusCode, 200, 'the JSON tag does not validate the CSV')
})

t.test('Cache-Control suits data that changes once a day; settled ranges are kept longer', async (t) => {
  const app = await historyApp(t)
  await app.store.publish(publishInput(fiveRates()))
  const maxAge = (header: unknown): number => Number(/(?:^|, )max-age=(\d+)/.exec(String(header))?.[1])
  const rates = maxAge((await app.inject('/v1/rates/KZT')).headers['cache-control'])
  const recent = await app.inject('/v1/history/KZT')
  t.equal(recent.headers['cache-control'], 'public, max-age=300, s-maxage=3600, stale-while-revalidate=86400, stale-if-error=86400')
  t.ok(maxAge(recent.headers['cache-control']) > rates, 'longer than /v1/rates')
  for (const url of ['/v1/history/KZT?from=2026-01-05', '/v1/history/KZT?from=2026-01-05&to=2026-03-15', '/v1/history?symbols=KZT,TJS&from=2025-11-03&to=2025-11-07']) {
    t.equal((await app.inject(url)).headers['cache-control'], recent.headers['cache-control'], `${url}: may still change`)
  }
  const settled = 'public, max-age=86400, s-maxage=604800, stale-while-revalidate=604800, stale-if-error=604800'
  for (const url of ['/v1/history/KZT?from=2026-01-05&to=2026-01-09', '/v1/history/KZT?from=2025-03-01&to=2026-03-14', '/v1/history?symbols=KZT,UZS&from=2026-01-05&to=2026-01-09&format=csv', '/v1/rates/KZT?at=2026-03-01']) {
    t.equal((await app.inject(url)).headers['cache-control'], settled, `${url}: settled`)
  }
  t.equal((await app.inject('/v1/history/KZT?from=2025-01-27&to=2025-02-07')).headers['cache-control'], recent.headers['cache-control'],
    'a range starting before the history does may still be filled in by the backfill')
})

t.test('?at= answers the fixing in force on that date with its change', async (t) => {
  const app = await historyApp(t)
  const friday = fixingOf('KZT', '2026-03-13')
  const thursday = fixingOf('KZT', '2026-03-12')
  for (const at of ['2026-03-14', '2026-03-15', '2026-03-13']) {
    const res = await app.inject(`/v1/rates/kzt?at=${at}`)
    t.equal(res.statusCode, 200, at)
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    const body = RateAtSchema.parse(res.json())
    t.same(Object.keys(res.json()), ['pair', 'base', 'quote', 'price', 'inverse', 'date', 'basis', 'sources', 'change', 'at'])
    const abs = friday.price - thursday.price
    t.same(body, {
      pair: 'KZT/USD',
      base: 'KZT',
      quote: 'USD',
      price: friday.price,
      inverse: friday.inverse,
      date: '2026-03-13',
      basis: friday.basis,
      sources: friday.sources,
      change: { pct: abs / thursday.price * 100, abs, prevPrice: thursday.price, prevDate: '2026-03-12' },
      at
    }, `${at}: Friday's fixing against Thursday's`)
  }
  const monday = RateAtSchema.parse((await app.inject('/v1/rates/KZT?at=2026-02-16')).json())
  t.match(monday, { date: '2026-02-16', change: { prevDate: '2026-02-13' } }, 'Monday against the Friday before')
  t.match((await app.inject(`/v1/rates/KZT?at=${FIRST}`)).json(), { date: FIRST, change: null }, 'the first fixing has no change')
  t.match((await app.inject('/v1/rates/UZS?at=2026-03-17')).json(), { date: '2026-03-17' }, 'tomorrow is a date one may ask for')
  t.match((await app.inject('/v1/rates/KZT?at=2026-03-17')).json(), { date: '2026-03-16' })

  const before = await app.inject('/v1/rates/KZT?at=2025-02-02')
  t.equal(before.statusCode, 404, 'nothing on or before a date before the history')
  t.match(before.json(), { error: 'RATES_NOT_FOUND', message: /KZT\/USD.*2025-02-02/ })
  t.equal((await app.inject('/v1/rates/TJS?at=2026-03-01')).statusCode, 404, 'a served base without history')
  t.equal((await app.inject('/v1/rates/EUR?at=2026-03-01')).statusCode, 404)
  for (const url of ['/v1/rates/KZT?at=2026-03-18', '/v1/rates/KZT?at=2026-02-30', '/v1/rates/KZT?at=2026-3-1', '/v1/rates/KZT?at=']) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 400, url)
    t.match(res.json(), { error: 'RATES_BAD_REQUEST', message: /(^|\s)at: / }, `${url} names at`)
  }
  t.equal((await app.inject('/v1/rates/KZT?foo=1')).statusCode, 400, 'an unknown parameter is refused, as on /v1/rates')
})

t.test('without at, /v1/rates/:base is the current rate as before', async (t) => {
  const app = await historyApp(t)
  t.equal((await app.inject('/v1/rates/KZT')).statusCode, 503, 'no snapshot yet, whatever the history holds')
  await app.store.publish(publishInput(fiveRates()))
  const res = await app.inject('/v1/rates/KZT')
  t.equal(res.statusCode, 200)
  t.equal(res.headers.etag, '"1-KZT"')
  t.equal(res.body, JSON.stringify(RateSchema.parse(res.json())))
  t.same(res.json(), app.store.snapshot()?.rates.find((r) => r.base === 'KZT'))
  t.equal((await app.inject({ url: '/v1/rates/KZT', headers: { 'if-none-match': '"1-KZT"' } })).statusCode, 304)
})

t.test('bodies are built once per history version, range and format, in a bounded cache', async (t) => {
  let kzt = history.KZT as Fixing[]
  let builds = 0
  const views = createHistoryViews({ history: (base) => { if (base === 'KZT') builds++; return base === 'KZT' ? kzt : [] }, quote: 'USD', maxEntries: 3 })
  const range = { from: '2026-01-05', to: '2026-01-09' }
  const json = views.one('KZT', range, 'json')
  t.equal(views.one('KZT', { ...range }, 'json'), json, 'the same view object: not serialised again')
  t.not(views.one('KZT', range, 'csv'), json, 'CSV has its own')
  kzt = [...kzt]
  const copy = views.one('KZT', range, 'json')
  t.not(copy, json, 'a new version builds anew')
  t.equal(copy.etag, json.etag, 'to the same tag when the content is the same')
  views.one('KZT', { from: '2026-02-02', to: undefined }, 'json')
  views.one('KZT', { from: '2026-02-03', to: undefined }, 'json')
  views.several(['KZT', 'UZS'], range, 'json')
  t.not(views.one('KZT', range, 'json'), copy, 'the least recently used made room')
  t.ok(builds > 0)

  const small = createHistoryViews({ history: () => history.KZT as Fixing[], quote: 'USD', maxBytes: 2_000 })
  const big = small.one('KZT', { from: FIRST, to: undefined }, 'csv')
  t.ok(big.body.length > 2_000)
  t.not(small.one('KZT', { from: FIRST, to: undefined }, 'csv'), big, 'a body over the byte budget is served but not kept')
  const a = small.one('KZT', range, 'json')
  t.equal(small.one('KZT', range, 'json'), a, 'small ones are kept')
})

t.test('the change of a past rate skips a fixing no rate can have, as the published change does', async (t) => {
  const f = (date: string, inverse: number): Fixing => ({ date, price: 1 / inverse, inverse, basis: 'official', sources: ['nbk'] })
  const fixings = [f('2026-03-10', 500), f('2026-03-11', 1e-12), f('2026-03-12', 500)]
  t.match(rateAt('KZT', 'USD', fixings, '2026-03-12'), { date: '2026-03-12', change: { pct: 0, abs: 0, prevDate: '2026-03-10' } })
  t.equal(Object.is(rateAt('KZT', 'USD', fixings, '2026-03-12')?.change?.abs, -0), false, 'never -0')
  t.equal(rateAt('KZT', 'USD', fixings, '2026-03-09'), null)
})
