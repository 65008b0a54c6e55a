import t from 'tap'
import type { Quote } from '../../src/domain/rate.js'
import { QuoteSchema } from '../../src/domain/rate.js'
import { CBT_ORIGIN, createCbtSource, parseCbt as parseCbtAt } from '../../src/sources/cbt.js'
import { decode } from '../../src/sources/http.js'
import { assertQuotes, assertRejects, expected, relDiff } from '../support/expected.js'
import { assertFirstFetch, assertOmitted } from './adapters.js'
import { NOW, fetchContext } from '../support/fetch-context.js'
import { fixture, fixtureServer, fixtureText } from '../support/fixture-server.js'
import { assertSame, byBase, checkFixtures, editEntry, field, seenOf, serveWithEtag, setField } from '../support/quotes.js'
import type { Seen } from '../support/quotes.js'

// the parsers on the recorded payloads' clock (Wed 26 Nov 2025)
const parseCbt = (text: string, asked?: string): Quote[] => parseCbtAt(text, { now: NOW, asked })

const DAY = 'cbt/26112025.xml'
const text = fixtureText(DAY)
const base = parseCbt(text)

const ROW = /\t<rate code="[^"]*">.*?<\/rate>\r\n/gs

const editRow = (xml: string, code: string, edit: (row: string) => string): string =>
  editEntry(xml, ROW, `<rate code="${code}">`, edit)

t.test('every fixture parses to its expected units per USD, or fails typed', async (t) => {
  checkFixtures(t, 'cbt', parseCbt, { count: { atLeast: 4 }, failure: { code: 'RATES_SOURCE_PARSE', message: /HTML/ }, validDaily: true })
})

t.test('EUR, GBP, AUD and XDR are published as USD per unit and come out inverted', async (t) => {
  const got = byBase(base)
  for (const code of ['EUR', 'GBP', 'AUD', 'XDR']) {
    const row = text.match(new RegExp(`<rate code="${code}">.*?</rate>`, 's'))?.[0] ?? ''
    const published = Number(field(row, 'rate_usd'))
    t.ok(relDiff(got.get(code)?.inverse ?? NaN, 1 / published) < 1e-12, `${code} = 1 / ${published}`)
    // The TMT legs agree: 3.5 TMT per USD over TMT per unit.
    const viaTmt = 3.5 / (Number(field(row, 'rate_tmt')) / Number(field(row, 'multiplier')))
    t.ok(relDiff(got.get(code)?.inverse ?? NaN, viaTmt) < 0.001, `${code} agrees with the rate_tmt cross ${viaTmt}`)
  }
  t.ok(relDiff(got.get('CHF')?.inverse ?? NaN, 0.806) < 1e-12, 'CHF is units per USD, not inverted')
  t.ok(relDiff(got.get('JPY')?.inverse ?? NaN, 156.2) < 1e-12, 'the multiplier does not apply to rate_usd')
  // An unknown code is recognised by its name, and failing that by the rate_tmt cross.
  const nzdByName = text.replace('</cbt_currency_rate>',
    '\t<rate code="NZD">\r\n\t\t<name>TÄZE ZELANDIÝA DOLLARY / ABŞ-NYŇ DOLLARY</name>\r\n\t\t<rate_usd>0.565</rate_usd>\r\n\t\t<multiplier>1</multiplier>\r\n\t\t<rate_tmt>1.9775</rate_tmt>\r\n\t</rate>\r\n</cbt_currency_rate>')
  t.ok(relDiff(byBase(parseCbt(nzdByName)).get('NZD')?.inverse ?? NaN, 1 / 0.565) < 1e-12, 'by name')
  const nzdByCross = nzdByName.replace('TÄZE ZELANDIÝA DOLLARY / ABŞ-NYŇ DOLLARY', 'TÄZE ZELANDIÝA DOLLARY')
  t.ok(relDiff(byBase(parseCbt(nzdByCross)).get('NZD')?.inverse ?? NaN, 1 / 0.565) < 1e-12, 'by the rate_tmt cross')
  const nzdNoTmt = nzdByCross.replace('<rate_tmt>1.9775</rate_tmt>', '<rate_tmt>n/a</rate_tmt>')
  t.ok(relDiff(byBase(parseCbt(nzdNoTmt)).get('NZD')?.inverse ?? NaN, 0.565) < 1e-12, 'without either, rate_usd is units per USD')
  // A glitchy rate_tmt far from both directions does not flip a known currency.
  const glitch = editRow(text, 'EUR', (row) => setField(row, 'rate_tmt', '40.478'))
  t.ok(relDiff(byBase(parseCbt(glitch)).get('EUR')?.inverse ?? NaN, 1 / 1.1565) < 1e-12)
})

t.test('format variations do not change the result', async (t) => {
  const rows = text.match(ROW) ?? []
  t.equal(rows.length, 40)
  const reordered = text.replace(/(<\/date>\r\n).*(<\/cbt_currency_rate>)/s, (_, open: string, close: string) => open + [...rows].reverse().join('') + close)
  t.not(reordered, text)
  assertSame(t, parseCbt(reordered), base)
  assertSame(t, parseCbt('\ufeff' + text), base)
  assertSame(t, parseCbt(text.replace(/\r\n/g, '\n').replace(/\t/g, '  ')), base)
  // 2020–2023 files write the date as YYYY-MM-DD.
  assertSame(t, parseCbt(text.replace('<date>26.11.2025</date>', '<date>2025-11-26</date>')), base)
  // Bytes read back through the charset detection (no charset in the header, UTF-8 prolog).
  assertSame(t, parseCbt(decode(fixture(DAY), 'text/xml')), base)
})

t.test('a changed multiplier with rate_tmt scaled gives the same rates', async (t) => {
  let xml = editRow(text, 'KZT', (row) => setField(setField(row, 'multiplier', '1000'), 'rate_tmt', '6.861'))
  xml = editRow(xml, 'USD', (row) => setField(setField(row, 'multiplier', '100'), 'rate_tmt', '350'))
  assertSame(t, parseCbt(xml), base)
})

t.test('a missing currency is omitted, not zero', async (t) => {
  assertOmitted(t, parseCbt(editRow(text, 'TJS', () => '')), base, ['TJS'])
})

t.test('an unusable value skips that currency only', async (t) => {
  let xml = editRow(text, 'KGS', (row) => setField(row, 'rate_usd', '0'))
  xml = editRow(xml, 'KZT', (row) => setField(row, 'rate_usd', 'ýok'))
  xml = editRow(xml, 'EUR', (row) => setField(row, 'rate_usd', '-1.1565'))
  xml = editRow(xml, 'UZS', (row) => row.replace(/\t\t<rate_usd>[^<]*<\/rate_usd>\r\n/, ''))
  const quotes = parseCbt(xml)
  t.ok(quotes.every((q) => QuoteSchema.safeParse(q).success))
  const got = byBase(quotes)
  for (const code of ['KGS', 'KZT', 'EUR', 'UZS']) t.notOk(got.has(code), `${code} skipped`)
  t.equal(got.size, base.length - 4)
  t.equal(got.get('TMT')?.inverse, 3.5)
})

t.test('without a usable USD row TMT cannot be quoted', async (t) => {
  assertRejects(t, () => parseCbt(editRow(text, 'USD', () => '')), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseCbt(editRow(text, 'USD', (row) => setField(row, 'rate_tmt', '0'))), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseCbt(editRow(text, 'USD', (row) => setField(row, 'multiplier', ''))), 'RATES_SOURCE_PARSE', /USD/)
})

t.test('malformed and empty payloads', async (t) => {
  assertRejects(t, () => parseCbt('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<cbt_currency_rate name="CBT Currency XML">\r\n\t<date>26.11.2025</date>\r\n</cbt_currency_rate>'), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseCbt(text.replace('<date>26.11.2025</date>', '<date>26/13/2025</date>')), 'RATES_SOURCE_PARSE', /date/)
  assertRejects(t, () => parseCbt(text.replace('<date>26.11.2025</date>', '')), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseCbt(text.slice(0, 1000)), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseCbt('<cbt_currency_rate/>'), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseCbt(''), 'RATES_SOURCE_PARSE')
})

t.test('a payload dated after the date asked for is refused; an earlier one is a carry-forward', async (t) => {
  assertRejects(t, () => parseCbt(text, '2025-11-25'), 'RATES_SOURCE_DATE')
  t.ok(parseCbt(text, '2025-11-30').every((q) => q.date === '2025-11-26'))
})

t.test('relErr follows the published digits', async (t) => {
  const got = byBase(base)
  t.ok(relDiff(got.get('TMT')?.relErr ?? 0, 0.00005 / 3.5) < 1e-9, 'rate_tmt "3.5" is 4 dp with zeros stripped')
  const tjs = got.get('TJS')?.relErr ?? 0
  t.ok(tjs > 2e-4 && tjs < 0.0015, `TJS at 2 dp is ~0.05 %: ${tjs}`)
  for (const code of ['KGS', 'KZT', 'UZS']) t.ok((got.get(code)?.relErr ?? 1) < 1e-4, `${code} is fine-grained`)
})

t.test('fetchQuotes asks the Ashgabat date\'s file, and the day before on a 404', async (t) => {
  const seen: Seen[] = []
  const server = await fixtureServer(t, (req, res) => {
    seen.push(seenOf(req))
    const url = req.url ?? ''
    if (url.endsWith('/30112025.xml') || url.includes('/none/')) {
      res.writeHead(404, { 'content-type': 'text/html' })
      res.end(fixture('cbt/404-sunday.html'))
    } else if (url.includes('/curl/')) {
      res.writeHead(403, { 'content-type': 'text/html' })
      res.end(fixture('cbt/403-forbidden.html'))
    } else if (url.includes('/down/')) {
      res.writeHead(502, { 'content-type': 'text/html' })
      res.end(fixture('nbkr/error-502.html'))
    } else {
      serveWithEtag(req, res, url.endsWith('/29112025.xml') ? 'cbt/25112025.xml' : DAY, 'text/xml', '"v1"')
    }
  })
  const source = createCbtSource({ origin: `${server.url}/cbt` })
  t.equal(source.id, 'cbt')
  t.equal(CBT_ORIGIN, 'https://cbt.tm')
  const ctx = fetchContext(t)
  await assertFirstFetch(t, source, ctx, seen, { url: '/cbt/kurs/2025/26112025.xml', fixture: DAY, revalidation: { inm: '"v1"' } })

  // Sunday 30.11 in Ashgabat: 404, then Saturday's file once.
  seen.length = 0
  const sunday = await source.fetchQuotes(fetchContext(t, { now: new Date('2025-11-30T08:00:00Z') }))
  t.same(seen.map((s) => s.url), ['/cbt/kurs/2025/30112025.xml', '/cbt/kurs/2025/29112025.xml'])
  assertQuotes(t, sunday, expected('cbt/25112025.xml'))

  seen.length = 0
  await t.rejects(createCbtSource({ origin: `${server.url}/none` }).fetchQuotes(fetchContext(t, { now: new Date('2026-01-01T03:00:00Z') })),
    { code: 'RATES_SOURCE_HTTP', upstreamStatus: 404 })
  t.same(seen.map((s) => s.url), ['/none/kurs/2026/01012026.xml', '/none/kurs/2025/31122025.xml'], 'one step back, across the year')
  seen.length = 0
  await t.rejects(createCbtSource({ origin: `${server.url}/curl` }).fetchQuotes(fetchContext(t)), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 403 })
  t.equal(seen.length, 1, 'a 403 is not retried')
  seen.length = 0
  await t.rejects(createCbtSource({ origin: `${server.url}/down` }).fetchQuotes(fetchContext(t)), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 502 })
  t.equal(seen.length, 1, 'a 5xx is an outage, not a missing day: no step back')
  await t.rejects(source.fetchQuotes(fetchContext(t, { now: new Date('2025-11-25T12:00:00Z') })), { code: 'RATES_SOURCE_DATE' })
})
