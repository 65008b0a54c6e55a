import t from 'tap'
import type { Quote } from '../../src/domain/rate.js'
import { QuoteSchema } from '../../src/domain/rate.js'
import { CBU_ORIGIN, createCbuSource, parseCbu as parseCbuAt } from '../../src/sources/cbu.js'
import { decode } from '../../src/sources/http.js'
import { assertRejects, relDiff } from '../support/expected.js'
import { assertFirstFetch, assertOmitted } from './adapters.js'
import { NOW, fetchContext } from '../support/fetch-context.js'
import { fixtureServer, fixtureText } from '../support/fixture-server.js'
import { assertSame, assertUnchanged, byBase, checkFixtures, seenOf, serveWithEtag } from '../support/quotes.js'
import type { Seen } from '../support/quotes.js'

// the parsers on the recorded payloads' clock (Wed 26 Nov 2025)
const parseCbu = (text: string, asked?: string): Quote[] => parseCbuAt(text, { now: NOW, asked })

const DAY = 'cbu/all-2025-11-26.json'
const text = fixtureText(DAY)
const base = parseCbu(text)

type Entry = Record<string, unknown>
const entries = (): Entry[] => JSON.parse(text) as Entry[]

/** The fixture with one currency's entry rewritten (or removed when `edit` returns undefined). */
function editEntry (code: string, edit: (e: Entry) => Entry | undefined): string {
  const all = entries()
  const i = all.findIndex((e) => e.Ccy === code)
  if (i < 0) throw new Error(`no ${code} entry in the fixture`)
  const next = edit({ ...all[i] })
  if (next === undefined) all.splice(i, 1)
  else all[i] = next
  return JSON.stringify(all)
}

t.test('every fixture parses to its expected units per USD, or fails typed', async (t) => {
  checkFixtures(t, 'cbu', parseCbu, { count: { atLeast: 3 }, failure: { code: 'RATES_SOURCE_EMPTY' }, validDaily: true })
})

t.test('format variations do not change the result', async (t) => {
  assertSame(t, parseCbu(JSON.stringify(entries().reverse())), base)
  assertSame(t, parseCbu('\ufeff' + text), base)
  assertSame(t, parseCbu(JSON.stringify(entries(), null, 2).replace(/\n/g, '\r\n')), base)
  // Raw UTF-8 Cyrillic instead of \u escapes, read from bytes.
  const raw = JSON.stringify(entries())
  t.ok(raw.includes('Доллар США') && !text.includes('Доллар США'))
  assertSame(t, parseCbu(decode(Buffer.from(raw, 'utf8'), 'application/json')), base)
  // Numbers instead of numeric strings.
  const numeric = entries().map((e) => ({ ...e, Nominal: Number(e.Nominal), Rate: Number(e.Rate) }))
  assertSame(t, parseCbu(JSON.stringify(numeric)), base)
})

t.test('a changed nominal with the value scaled gives the same rate', async (t) => {
  const all = JSON.parse(editEntry('KZT', (e) => ({ ...e, Nominal: '10', Rate: '236.00' }))) as Entry[]
  const kgs = all.find((e) => e.Ccy === 'KGS')
  if (kgs !== undefined) Object.assign(kgs, { Nominal: '100', Rate: '13773.00' })
  assertUnchanged(t, byBase(parseCbu(JSON.stringify(all))), byBase(base), ['KZT', 'KGS'])
})

t.test('a missing currency is omitted, not zero', async (t) => {
  assertOmitted(t, parseCbu(editEntry('TJS', () => undefined)), base, ['TJS'])
})

t.test('an unusable or differently dated entry skips that currency only', async (t) => {
  let all = JSON.parse(editEntry('KGS', (e) => ({ ...e, Rate: '0.00' }))) as Entry[]
  const edits: Record<string, Entry> = {
    KZT: { Rate: 'n/a' },
    TMT: { Date: '25.11.2025' },
    EUR: { Rate: '-13925.27' },
    GBP: { Nominal: '0' },
    JPY: { Ccy: '¥' }
  }
  all = all.map((e) => ({ ...e, ...edits[String(e.Ccy)] }))
  all.push({ id: 1, Ccy: 'CHF', Nominal: '1', Rate: '1.00', Date: '26.11.2025' }, 'junk' as unknown as Entry)
  const quotes = parseCbu(JSON.stringify(all))
  t.ok(quotes.every((q) => QuoteSchema.safeParse(q).success))
  const got = byBase(quotes)
  for (const code of ['KGS', 'KZT', 'TMT', 'EUR', 'GBP', 'JPY']) t.notOk(got.has(code), `${code} skipped`)
  t.ok(relDiff(got.get('CHF')?.inverse ?? NaN, byBase(base).get('CHF')?.inverse ?? 0) < 1e-12, 'the first CHF entry wins')
  t.equal(got.size, base.length - 6)
})

t.test('without a usable USD entry nothing can be crossed', async (t) => {
  assertRejects(t, () => parseCbu(editEntry('USD', () => undefined)), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseCbu(editEntry('USD', (e) => ({ ...e, Rate: '0' }))), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseCbu(editEntry('USD', (e) => ({ ...e, Date: '2025-11-26' }))), 'RATES_SOURCE_PARSE', /USD Date/)
})

t.test('malformed and empty payloads', async (t) => {
  assertRejects(t, () => parseCbu('[]'), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseCbu(' [ ]\r\n'), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseCbu('{"error":"not found"}'), 'RATES_SOURCE_PARSE', /array/)
  assertRejects(t, () => parseCbu(text.slice(0, 500)), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseCbu('<!DOCTYPE html><html><body>Checking your browser</body></html>'), 'RATES_SOURCE_PARSE', /HTML/)
  assertRejects(t, () => parseCbu(''), 'RATES_SOURCE_PARSE')
})

t.test('a payload dated after the date asked for is refused; an earlier one is a carry-forward', async (t) => {
  assertRejects(t, () => parseCbu(text, '2025-11-25'), 'RATES_SOURCE_DATE')
  const quotes = parseCbu(text, '2025-11-29')
  t.ok(quotes.length > 0 && quotes.every((q) => q.date === '2025-11-26'))
})

t.test('relErr reflects 2-dp values per nominal', async (t) => {
  const got = byBase(base)
  t.ok((got.get('UZS')?.relErr ?? 1) < 1e-6, 'USD in UZS is fine-grained')
  for (const code of ['KGS', 'KZT', 'TJS', 'TMT']) t.ok((got.get(code)?.relErr ?? 1) < 0.0015, `${code} is fine enough to vote`)
  const kzt = got.get('KZT')?.relErr ?? 0
  t.ok(kzt > 1e-4, `KZT (23.60 UZS at 2 dp) is the coarsest of the five: ${kzt}`)
  // "23.6" is 23.60: stripped zeros do not make the quote look coarser.
  const stripped = byBase(parseCbu(editEntry('KZT', (e) => ({ ...e, Rate: '23.6' }))))
  t.ok(relDiff(stripped.get('KZT')?.relErr ?? 0, kzt) < 1e-9)
})

t.test('fetchQuotes asks the dated JSON for the Tashkent date', async (t) => {
  const seen: Seen[] = []
  const server = await fixtureServer(t, (req, res) => {
    seen.push(seenOf(req))
    if (req.url?.startsWith('/gone/') === true || req.url?.startsWith('/down/') === true) {
      res.writeHead(req.url.startsWith('/gone/') ? 404 : 503, { 'content-type': 'text/html' })
      res.end('<html><body>Not found</body></html>')
      return
    }
    serveWithEtag(req, res, DAY, 'application/json', '"v1"')
  })
  const source = createCbuSource({ origin: `${server.url}/cbu/` })
  t.equal(source.id, 'cbu')
  t.equal(CBU_ORIGIN, 'https://cbu.uz')
  const ctx = fetchContext(t)
  await assertFirstFetch(t, source, ctx, seen, { url: '/cbu/en/arkhiv-kursov-valyut/json/all/2025-11-26/', fixture: DAY, revalidation: { inm: '"v1"' } })
  // 19:30 UTC on the 25th is already the 26th in Tashkent (UTC+5).
  await source.fetchQuotes(fetchContext(t, { now: new Date('2025-11-25T19:30:00Z') }))
  t.equal(seen.at(-1)?.url, '/cbu/en/arkhiv-kursov-valyut/json/all/2025-11-26/')
  await t.rejects(source.fetchQuotes(fetchContext(t, { now: new Date('2025-11-25T18:30:00Z') })), { code: 'RATES_SOURCE_DATE' })
  await t.rejects(createCbuSource({ origin: `${server.url}/gone` }).fetchQuotes(fetchContext(t)), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 404 })
  await t.rejects(createCbuSource({ origin: `${server.url}/down` }).fetchQuotes(fetchContext(t)), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 503 })
})
