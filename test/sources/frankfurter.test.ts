import t from 'tap'
import type { Quote } from '../../src/domain/rate.js'
import { FRANKFURTER_ORIGIN, createFrankfurterSource, parseFrankfurter as parseFrankfurterAt } from '../../src/sources/frankfurter.js'
import { assertRejects, expected, relDiff } from '../support/expected.js'
import { assertFirstFetch } from './adapters.js'
import { NOW, fetchContext } from '../support/fetch-context.js'
import { fixtureServer, fixtureText, serve } from '../support/fixture-server.js'
import { byBase, checkFixtures, seenOf, serveWithEtag } from '../support/quotes.js'
import type { Seen } from '../support/quotes.js'

// the parsers on the recorded payloads' clock (Wed 26 Nov 2025)
const parseFrankfurter = (text: string): Quote[] => parseFrankfurterAt(text, { now: NOW })

const DAY = 'frankfurter/rates-USD-2025-11-26.json'
const text = fixtureText(DAY)
const base = parseFrankfurter(text)

interface Row { date: string, base: string, quote: string, rate: unknown }

function edit (fn: (rows: Row[]) => Row[] | undefined): string {
  const rows = JSON.parse(text) as Row[]
  return JSON.stringify(fn(rows) ?? rows)
}

t.test('every fixture parses to its expected units per USD, or fails typed', async (t) => {
  checkFixtures(t, 'frankfurter', parseFrankfurter, { count: 3, failure: { code: 'RATES_SOURCE_PARSE', message: /not found/ } })
})

t.test('format variations do not change the result', async (t) => {
  const reordered = edit((rows) => rows.reverse())
  const pretty = JSON.stringify(JSON.parse(text), null, 2).replace(/\n/g, '\r\n')
  for (const variant of [reordered, '\ufeff' + text, pretty]) t.same(byBase(parseFrankfurter(variant)), byBase(base))
})

t.test('rows not based on USD, missing and unusable rows are skipped', async (t) => {
  const got = byBase(parseFrankfurter(edit((rows) => [
    ...rows.filter((r) => r.quote !== 'TJS').map((r) => r.quote === 'KGS' ? { ...r, rate: 0 } : r.quote === 'KZT' ? { ...r, rate: '??' } : r),
    { date: '2025-11-26', base: 'EUR', quote: 'TJS', rate: 10.6 },
    { date: '2025-11-26', base: 'USD', quote: 'usd', rate: 1 },
    { date: 'yesterday', base: 'USD', quote: 'EUR', rate: 0.86 }
  ])))
  for (const code of ['TJS', 'KGS', 'KZT', 'EUR']) t.notOk(got.has(code), `${code} absent`)
  t.same([...got.keys()].sort(), ['RUB', 'TMT', 'UZS'])
  t.ok(relDiff(got.get('UZS')?.inverse ?? NaN, Number(expected(DAY).units_per_usd.UZS)) < 1e-6)
})

t.test('each row keeps its own value date', async (t) => {
  const got = byBase(parseFrankfurter(edit((rows) => rows.map((r) => r.quote === 'TJS' ? { ...r, date: '2025-11-25' } : r))))
  t.equal(got.get('TJS')?.date, '2025-11-25')
  t.equal(got.get('KGS')?.date, '2025-11-26')
})

t.test('a repeated currency: the first usable row wins', async (t) => {
  const got = byBase(parseFrankfurter(edit((rows) => [{ date: '2025-11-26', base: 'USD', quote: 'KZT', rate: 0 }, ...rows, { date: '2025-11-26', base: 'USD', quote: 'KZT', rate: 5098.7 }])))
  t.equal(got.get('KZT')?.inverse, 509.87)
})

t.test('relErr follows the printed decimals', async (t) => {
  const got = byBase(base)
  const uzs = got.get('UZS')?.relErr ?? 0
  t.ok(uzs > 0 && uzs < 1e-5, `UZS 12041.2 (${uzs})`)
  t.ok(relDiff(got.get('TMT')?.relErr ?? NaN, 0.05 / 3.5) < 1e-9, 'TMT 3.5 only claims one decimal')
})

t.test('error bodies, empty answers and garbage', async (t) => {
  assertRejects(t, () => parseFrankfurter('[]'), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseFrankfurter(edit((rows) => rows.map((r) => ({ ...r, base: 'EUR' })))), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseFrankfurter('{"rates":{"KGS":87.45}}'), 'RATES_SOURCE_PARSE', /array/)
  assertRejects(t, () => parseFrankfurter(text.slice(0, 50)), 'RATES_SOURCE_PARSE', /expected JSON/)
  assertRejects(t, () => parseFrankfurter('<html><body>502 Bad Gateway</body></html>'), 'RATES_SOURCE_PARSE', /HTML/)
})

t.test('fetchQuotes asks /v2/rates for the USD base', async (t) => {
  const seen: Seen[] = []
  const server = await fixtureServer(t, (req, res) => {
    seen.push(seenOf(req))
    if (req.url?.startsWith('/nf/') === true) {
      serve(res, 'frankfurter/error-404.json', 'application/json', 404)
      return
    }
    if (req.url?.startsWith('/err/') === true) {
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('boom')
      return
    }
    serveWithEtag(req, res, DAY, 'application/json', '"r1"')
  })
  const ctx = fetchContext(t)
  const source = createFrankfurterSource({ origin: `${server.url}/ff/` })
  t.equal(source.id, 'frankfurter')
  await assertFirstFetch(t, source, ctx, seen, { url: '/ff/v2/rates?base=USD&quotes=KGS,KZT,RUB,TJS,TMT,UZS', fixture: DAY, revalidation: { inm: '"r1"' } })
  await t.rejects(createFrankfurterSource({ origin: `${server.url}/nf` }).fetchQuotes(ctx), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 404 })
  await t.rejects(createFrankfurterSource({ origin: `${server.url}/err` }).fetchQuotes(ctx), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 500 })
  t.equal(FRANKFURTER_ORIGIN, 'https://api.frankfurter.dev')
})
