import t from 'tap'
import type { Quote } from '../../src/domain/rate.js'
import { CBR_ORIGIN, createCbrSource, parseCbr as parseCbrAt } from '../../src/sources/cbr.js'
import { decode } from '../../src/sources/http.js'
import { assertQuotes, assertRejects, expected, relDiff } from '../support/expected.js'
import { encodeCp1251 } from '../support/cp1251.js'
import { assertFirstFetch, assertOmitted } from './adapters.js'
import { NOW, fetchContext } from '../support/fetch-context.js'
import { fixture, fixtureServer, fixtureText } from '../support/fixture-server.js'
import { assertSame, assertUnchanged, byBase, checkFixtures, editEntry, field, seenOf, serveWithEtag, setField } from '../support/quotes.js'
import type { Seen } from '../support/quotes.js'

// the parsers on the recorded payloads' clock (Wed 26 Nov 2025)
const parseCbr = (text: string): Quote[] => parseCbrAt(text, { now: NOW })

const DAY = 'cbr/XML_daily-26.11.2025.xml'
const text = fixtureText(DAY, 'windows-1251')
const base = parseCbr(text)

const ROW = /<Valute\b[^>]*>.*?<\/Valute>/gs

/** Rewrites the <Valute> of one currency. */
const editRow = (xml: string, code: string, edit: (row: string) => string): string =>
  editEntry(xml, ROW, `<CharCode>${code}</CharCode>`, edit)

t.test('every fixture parses to its expected units per USD, or fails typed', async (t) => {
  checkFixtures(t, 'cbr', parseCbr, {
    count: { atLeast: 3 },
    failure: { code: 'RATES_SOURCE_PARSE' },
    encoding: (file) => file.endsWith('.xml') ? 'windows-1251' : 'utf-8'
  })
})

t.test('the DDoS-Guard interstitial is named as such', async (t) => {
  assertRejects(t, () => parseCbr(fixtureText('cbr/ddos-guard.html')), 'RATES_SOURCE_PARSE', /expected XML.*DDoS-Guard/i)
})

t.test('windows-1251 bytes decode by header and by prolog', async (t) => {
  const bytes = fixture(DAY)
  t.notOk(bytes.includes(Buffer.from('Доллар США')), 'the fixture is not UTF-8')
  for (const decoded of [decode(bytes, 'text/xml; charset=windows-1251'), decode(bytes)]) {
    t.ok(decoded.includes('<Name>Доллар США</Name>'), 'Cyrillic names survive')
    assertQuotes(t, parseCbr(decoded), expected(DAY))
  }
})

t.test('format variations do not change the result', async (t) => {
  const rows = text.match(ROW) ?? []
  t.ok(rows.length > 10)
  const reordered = text.replace(/(<ValCurs[^>]*>).*(<\/ValCurs>)/s, (_, open: string, close: string) => open + [...rows].reverse().join('') + close)
  t.not(reordered, text)
  assertSame(t, parseCbr(reordered), base, { date: false })
  assertSame(t, parseCbr('\ufeff' + text), base, { date: false })
  assertSame(t, parseCbr(text.replace(/></g, '>\r\n\t<') + '\r\n'), base, { date: false })
})

t.test('a changed nominal with the value scaled gives the same rate', async (t) => {
  // KZT per 100 -> per 10 and UZS per 10000 -> per 1000000: the published value scales with the nominal.
  let xml = editRow(text, 'KZT', (row) => setField(setField(row, 'Nominal', '10'),
    'Value', (Number(field(row, 'Value').replace(',', '.')) / 10).toFixed(5).replace('.', ',')))
  xml = editRow(xml, 'UZS', (row) => setField(setField(row, 'Nominal', '1 000 000'),
    'Value', (Number(field(row, 'Value').replace(',', '.')) * 100).toFixed(2).replace('.', ',')))
  const was = byBase(base)
  // Served as windows-1251 bytes, as cbr.ru does.
  const bytes = encodeCp1251(xml)
  for (const got of [byBase(parseCbr(xml)), byBase(parseCbr(decode(bytes, 'text/xml; charset=windows-1251')))]) {
    assertUnchanged(t, got, was, ['KZT', 'UZS'])
    t.equal(got.size, base.length)
  }
})

t.test('a missing currency is omitted, not zero', async (t) => {
  const got = assertOmitted(t, parseCbr(editRow(text, 'TJS', () => '')), base, ['TJS'])
  t.ok(got.has('KGS') && got.has('UZS'))
  // A set of one <Valute> still has the shape of many.
  const onlyUsd = parseCbr(text.replace(/(<ValCurs[^>]*>).*(<\/ValCurs>)/s, (_, open: string, close: string) =>
    open + (text.match(ROW) ?? []).filter((r) => r.includes('<CharCode>USD<')).join('') + close))
  t.same(onlyUsd.map((q) => q.base), ['RUB'])
})

t.test('an unusable value skips that currency only', async (t) => {
  let xml = editRow(text, 'KGS', (row) => setField(setField(row, 'Value', '0,0000'), 'VunitRate', '0'))
  xml = editRow(xml, 'KZT', (row) => setField(setField(row, 'Value', 'н/д'), 'VunitRate', '-'))
  xml = editRow(xml, 'TJS', (row) => setField(row, 'Nominal', '0'))
  xml = editRow(xml, 'EUR', (row) => setField(setField(row, 'Value', '-92,3340'), 'VunitRate', 'NaN'))
  xml = editRow(xml, 'GBP', (row) => setField(row, 'Value', ''))
  const got = byBase(parseCbr(xml))
  // A present but broken Value makes the row suspect: VunitRate does not paper over it.
  for (const code of ['KGS', 'KZT', 'TJS', 'EUR', 'GBP']) t.notOk(got.has(code), `${code} skipped`)
  t.equal(got.size, base.length - 5)
  t.ok(relDiff(got.get('UZS')?.inverse ?? NaN, Number(expected(DAY).units_per_usd.UZS)) < 1e-6)
  for (const q of got.values()) t.ok(Number.isFinite(q.inverse) && q.inverse > 0)
})

t.test('VunitRate, E-notation included, stands in when Value is absent', async (t) => {
  let xml = editRow(text, 'IRR', (row) => row.replace(/<Value>[^<]*<\/Value>/, ''))
  xml = editRow(xml, 'UZS', (row) => row.replace(/<Value>[^<]*<\/Value>/, ''))
  t.ok(xml.includes('<VunitRate>7,53219E-05</VunitRate>'))
  const got = byBase(parseCbr(xml))
  const was = byBase(base)
  for (const code of ['IRR', 'UZS']) {
    const q = got.get(code)
    t.ok(q !== undefined && relDiff(q.inverse, was.get(code)?.inverse ?? 0) < 1e-5, `${code} from VunitRate`)
    t.ok(q !== undefined && q.relErr > 0 && q.relErr < 1e-4)
  }
})

t.test('without a usable USD row nothing can be crossed', async (t) => {
  assertRejects(t, () => parseCbr(editRow(text, 'USD', () => '')), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseCbr(editRow(text, 'USD', (row) => setField(setField(row, 'Value', 'x'), 'VunitRate', '0'))), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseCbr(editRow(text, 'USD', (row) => row.replace(/<Value>.*<\/VunitRate>/, ''))), 'RATES_SOURCE_PARSE', /USD/)
})

t.test('malformed, empty and refused payloads', async (t) => {
  assertRejects(t, () => parseCbr('<?xml version="1.0" encoding="windows-1251"?><ValCurs Date="26.11.2025" name="Foreign Currency Market"></ValCurs>'), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseCbr('<ValCurs>Error in parameters</ValCurs>'), 'RATES_SOURCE_PARSE', /Error in parameters/)
  assertRejects(t, () => parseCbr(text.slice(0, 700)), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseCbr('Service temporarily unavailable'), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseCbr(''), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseCbr('<rates><rate/></rates>'), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseCbr(text.replace('Date="26.11.2025"', 'Date="31.11.2025"')), 'RATES_SOURCE_PARSE', /Date/)
  assertRejects(t, () => parseCbr('<html><body>Bad gateway</body></html>'), 'RATES_SOURCE_PARSE', /HTML/)
})

t.test('the value date is the payload\'s, a Saturday included', async (t) => {
  // Friday afternoon in Moscow: Saturday's set is already out, Sunday's cannot be
  const friday = { now: new Date('2025-11-28T12:00:00Z') }
  const quotes = parseCbrAt(text.replace('Date="26.11.2025"', 'Date="29.11.2025"'), friday)
  t.ok(quotes.length > 0)
  t.ok(quotes.every((q) => q.date === '2025-11-29' && q.cadence === 'daily'))
  assertRejects(t, () => parseCbrAt(text.replace('Date="26.11.2025"', 'Date="30.11.2025"'), friday), 'RATES_SOURCE_DATE', /2025-11-30.*future/)
})

t.test('RUB is the pivot itself, and relErr reflects 4-dp values per nominal', async (t) => {
  const got = byBase(base)
  t.ok(relDiff(got.get('RUB')?.inverse ?? NaN, Number(expected(DAY).extra_units_per_usd.RUB)) < 1e-9)
  const uzs = got.get('UZS')?.relErr ?? 0
  t.ok(uzs > 0 && uzs < 1e-5, `UZS per 10000 at 4 dp is fine-grained (${uzs})`)
  // A cross carries the error of both legs.
  t.ok((got.get('KZT')?.relErr ?? 0) > (got.get('RUB')?.relErr ?? Infinity))
  t.ok(got.has('EUR'), 'currencies beyond the five are kept')
})

t.test('fetchQuotes asks the bare XML_daily.asp and decodes windows-1251', async (t) => {
  const seen: Seen[] = []
  const server = await fixtureServer(t, (req, res) => {
    seen.push(seenOf(req))
    serveWithEtag(req, res, DAY, 'text/xml; charset=windows-1251', '"v1"')
  })
  const source = createCbrSource({ origin: `${server.url}/cbr/` })
  t.equal(source.id, 'cbr')
  const ctx = fetchContext(t)
  await assertFirstFetch(t, source, ctx, seen, { url: '/cbr/scripts/XML_daily.asp', fixture: DAY, revalidation: { inm: '"v1"' } })
  t.equal(CBR_ORIGIN, 'https://www.cbr.ru')
})

t.test('fetchQuotes: error statuses and HTML answers are typed', async (t) => {
  const server = await fixtureServer(t, (req, res) => {
    if (req.url?.startsWith('/down/') === true) {
      res.writeHead(503, { 'content-type': 'text/html' })
      res.end('<html><body>503</body></html>')
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(fixture('cbr/ddos-guard.html'))
  })
  const ctx = fetchContext(t)
  await t.rejects(createCbrSource({ origin: `${server.url}/down` }).fetchQuotes(ctx), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 503 })
  await t.rejects(createCbrSource({ origin: server.url }).fetchQuotes(ctx), { code: 'RATES_SOURCE_PARSE', message: /DDoS-Guard/ })
})
