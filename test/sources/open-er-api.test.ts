import t from 'tap'
import type { Quote } from '../../src/domain/rate.js'
import { OPEN_ER_API_ORIGIN, createOpenErApiSource, parseOpenErApi as parseOpenErApiAt } from '../../src/sources/open-er-api.js'
import { assertRejects, expected, relDiff } from '../support/expected.js'
import { assertFirstFetch } from './adapters.js'
import { NOW, fetchContext } from '../support/fetch-context.js'
import { fixtureServer, fixtureText } from '../support/fixture-server.js'
import { byBase, checkFixtures, seenOf, serveWithEtag } from '../support/quotes.js'
import type { Seen } from '../support/quotes.js'

// the parsers on the recorded payloads' clock (Wed 26 Nov 2025)
const parseOpenErApi = (text: string): Quote[] => parseOpenErApiAt(text, { now: NOW })

const DAY = 'open-er-api/latest-USD-2025-11-26.json'
const text = fixtureText(DAY)
const base = parseOpenErApi(text)

interface Latest { result: string, time_last_update_unix: number, base_code: string, rates: Record<string, unknown> }

function edit (fn: (doc: Latest) => void): string {
  const doc = JSON.parse(text) as Latest
  fn(doc)
  return JSON.stringify(doc)
}

t.test('every fixture parses to its expected units per USD, or fails typed', async (t) => {
  checkFixtures(t, 'open-er-api', parseOpenErApi, { count: 3, failure: { code: 'RATES_SOURCE_PARSE', message: /unsupported-code/ } })
})

t.test('the value date is the UTC day of time_last_update_unix', async (t) => {
  // 23:59:59 UTC on the 26th is still the 26th, one second later the 27th.
  const late = Date.parse('2025-11-26T23:59:59Z') / 1000
  t.ok(parseOpenErApi(edit((d) => { d.time_last_update_unix = late })).every((q) => q.date === '2025-11-26'))
  t.ok(parseOpenErApi(edit((d) => { d.time_last_update_unix = late + 1 })).every((q) => q.date === '2025-11-27'))
  assertRejects(t, () => parseOpenErApi(edit((d) => { d.time_last_update_unix = -5 })), 'RATES_SOURCE_PARSE')
})

t.test('format variations do not change the result', async (t) => {
  const reordered = edit((d) => { d.rates = Object.fromEntries(Object.entries(d.rates).reverse()) })
  const pretty = JSON.stringify(JSON.parse(text), null, 2).replace(/\n/g, '\r\n')
  for (const variant of [reordered, '\ufeff' + text, pretty]) {
    t.same(byBase(parseOpenErApi(variant)), byBase(base))
  }
})

t.test('missing and unusable rates are skipped, not zero', async (t) => {
  const got = byBase(parseOpenErApi(edit((d) => {
    delete d.rates.TJS
    d.rates.KGS = 0
    d.rates.KZT = '5x'
    d.rates.EUR = -0.86
    d.rates.kzt = 510
  })))
  for (const code of ['TJS', 'KGS', 'KZT', 'EUR']) t.notOk(got.has(code), `${code} absent`)
  t.equal(got.size, base.length - 4)
  t.ok(relDiff(got.get('UZS')?.inverse ?? NaN, Number(expected(DAY).units_per_usd.UZS)) < 1e-6)
})

t.test('relErr follows the printed decimals', async (t) => {
  const got = byBase(base)
  const uzs = got.get('UZS')?.relErr ?? 0
  t.ok(uzs > 0 && uzs < 1e-9, `UZS at 6 dp (${uzs})`)
  const sar = got.get('SAR')
  t.ok(sar !== undefined && relDiff(sar.relErr, 0.005 / 3.75) < 1e-9, 'SAR 3.75: half a unit of the 2nd decimal')
})

t.test('error envelopes, wrong bases and garbage', async (t) => {
  assertRejects(t, () => parseOpenErApi('{"result":"error","error-type":"quota-reached"}'), 'RATES_SOURCE_PARSE', /quota-reached/)
  assertRejects(t, () => parseOpenErApi('{"result":"error"}'), 'RATES_SOURCE_PARSE', /error/)
  assertRejects(t, () => parseOpenErApi(edit((d) => { d.base_code = 'EUR' })), 'RATES_SOURCE_PARSE', /base_code/)
  assertRejects(t, () => parseOpenErApi(edit((d) => { d.rates = { USD: 1 } })), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseOpenErApi('{"result":"success"}'), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseOpenErApi('[1,2]'), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseOpenErApi(text.slice(0, 300)), 'RATES_SOURCE_PARSE', /expected JSON/)
  assertRejects(t, () => parseOpenErApi('<!DOCTYPE html><html><body>429</body></html>'), 'RATES_SOURCE_PARSE', /HTML/)
})

t.test('fetchQuotes asks /v6/latest/USD', async (t) => {
  const seen: Seen[] = []
  const server = await fixtureServer(t, (req, res) => {
    seen.push(seenOf(req))
    if (req.url?.startsWith('/busy/') === true) {
      res.writeHead(429, { 'content-type': 'text/plain' })
      res.end('Too Many Requests')
      return
    }
    serveWithEtag(req, res, DAY, 'application/json', '"e1"', { 'last-modified': 'Wed, 26 Nov 2025 00:02:31 GMT' })
  })
  const ctx = fetchContext(t)
  const source = createOpenErApiSource({ origin: server.url })
  t.equal(source.id, 'open-er-api')
  await assertFirstFetch(t, source, ctx, seen, { url: '/v6/latest/USD', fixture: DAY, revalidation: { ims: 'Wed, 26 Nov 2025 00:02:31 GMT' } })
  await t.rejects(createOpenErApiSource({ origin: `${server.url}/busy` }).fetchQuotes(ctx), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 429 })
  t.equal(OPEN_ER_API_ORIGIN, 'https://open.er-api.com')
})
