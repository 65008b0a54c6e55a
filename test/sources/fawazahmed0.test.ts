import t from 'tap'
import type { Quote } from '../../src/domain/rate.js'
import { FAWAZAHMED0_ORIGIN, createFawazahmed0Source, parseFawazahmed0 as parseFawazahmed0At } from '../../src/sources/fawazahmed0.js'
import { assertRejects, expected, relDiff } from '../support/expected.js'
import { assertFirstFetch } from './adapters.js'
import { NOW, fetchContext } from '../support/fetch-context.js'
import { fixtureServer, fixtureText, serve } from '../support/fixture-server.js'
import { byBase, checkFixtures, seenOf, serveWithEtag } from '../support/quotes.js'
import type { Seen } from '../support/quotes.js'

// the parsers on the recorded payloads' clock (Wed 26 Nov 2025)
const parseFawazahmed0 = (text: string): Quote[] => parseFawazahmed0At(text, { now: NOW })

const DAY = 'fawazahmed0/usd-2025-11-26.json'
const MIN = 'fawazahmed0/usd-2025-11-25.min.json'
const NOT_FOUND = 'fawazahmed0/jsdelivr-404.txt'
const text = fixtureText(DAY)
const base = parseFawazahmed0(text)

interface Usd { date: string, usd: Record<string, unknown> }

function edit (fn: (doc: Usd) => void): string {
  const doc = JSON.parse(text) as Usd
  fn(doc)
  return JSON.stringify(doc, null, '\t')
}

t.test('every fixture parses to its expected units per USD, or fails typed', async (t) => {
  checkFixtures(t, 'fawazahmed0', parseFawazahmed0, { count: 3, failure: { code: 'RATES_SOURCE_PARSE', message: /expected JSON/ } })
  t.ok(fixtureText(DAY).includes('\t"usd": {'), 'the pretty fixture is tab-indented')
  t.notOk(fixtureText(MIN).includes('\n'), 'the .min fixture is one line')
})

t.test('only three-letter keys become upper-case codes; crypto and USD are left out', async (t) => {
  const codes = base.map((q) => q.base)
  t.ok(codes.every((c) => /^[A-Z]{3}$/.test(c)))
  t.notOk(codes.includes('USD'))
  t.notOk(codes.includes('USDT'))
  t.notOk(codes.includes('1INCH'))
  t.ok(codes.includes('KGS') && codes.includes('RUB'))
  t.ok(base.every((q) => q.date === '2025-11-26' && q.cadence === 'daily'))
})

t.test('format variations do not change the result', async (t) => {
  const reordered = edit((d) => { d.usd = Object.fromEntries(Object.entries(d.usd).reverse()) })
  for (const variant of [reordered, '\ufeff' + text, text.replace(/\n/g, '\r\n'), JSON.stringify(JSON.parse(text))]) {
    t.same(byBase(parseFawazahmed0(variant)), byBase(base))
  }
})

t.test('missing and unusable rates are skipped, not zero', async (t) => {
  const got = byBase(parseFawazahmed0(edit((d) => {
    delete d.usd.tjs
    d.usd.kgs = 0
    d.usd.kzt = 'NaN'
    d.usd.eur = null
  })))
  for (const code of ['TJS', 'KGS', 'KZT', 'EUR']) t.notOk(got.has(code), `${code} absent`)
  t.equal(got.size, base.length - 4)
  t.ok(relDiff(got.get('UZS')?.inverse ?? NaN, Number(expected(DAY).units_per_usd.UZS)) < 1e-6)
})

t.test('relErr follows the printed decimals', async (t) => {
  const uzs = byBase(base).get('UZS')?.relErr ?? 0
  t.ok(uzs > 0 && uzs < 1e-9, `UZS at 7 dp (${uzs})`)
})

t.test('wrong shapes, dates and empty payloads', async (t) => {
  assertRejects(t, () => parseFawazahmed0(edit((d) => { d.date = '26.11.2025' })), 'RATES_SOURCE_PARSE', /date/)
  assertRejects(t, () => parseFawazahmed0('{"date":"2025-11-26","eur":{"kgs":100}}'), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseFawazahmed0('{"date":"2025-11-26","usd":{"usd":1,"usdt":1.0004,"1inch":4}}'), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseFawazahmed0('<html><head><title>502</title></head></html>'), 'RATES_SOURCE_PARSE', /HTML/)
})

t.test('fetchQuotes asks the @latest usd.json on the CDN', async (t) => {
  const seen: Seen[] = []
  const server = await fixtureServer(t, (req, res) => {
    seen.push(seenOf(req))
    if (req.url?.startsWith('/missing/') === true) serve(res, NOT_FOUND, 'text/plain; charset=utf-8', 404)
    else if (req.url?.startsWith('/soft/') === true) serve(res, NOT_FOUND, 'text/plain; charset=utf-8')
    else serveWithEtag(req, res, DAY, 'application/json; charset=utf-8', 'W/"f1"')
  })
  const ctx = fetchContext(t)
  const source = createFawazahmed0Source({ origin: `${server.url}/cdn` })
  t.equal(source.id, 'fawazahmed0')
  await assertFirstFetch(t, source, ctx, seen, { url: '/cdn/npm/@fawazahmed0/currency-api@latest/v1/currencies/usd.json', fixture: DAY, revalidation: { inm: 'W/"f1"' } })
  await t.rejects(createFawazahmed0Source({ origin: `${server.url}/missing` }).fetchQuotes(ctx), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 404 })
  await t.rejects(createFawazahmed0Source({ origin: `${server.url}/soft` }).fetchQuotes(ctx), { code: 'RATES_SOURCE_PARSE' })
  t.equal(FAWAZAHMED0_ORIGIN, 'https://cdn.jsdelivr.net')
})
