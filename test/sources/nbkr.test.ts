import t from 'tap'
import type { Quote } from '../../src/domain/rate.js'
import { decode } from '../../src/sources/http.js'
import { NBKR_ORIGIN, createNbkrSource, parseNbkr as parseNbkrAt } from '../../src/sources/nbkr.js'
import { encodeCp1251 } from '../support/cp1251.js'
import { assertQuotes, assertRejects, expected, expectedOf, relDiff } from '../support/expected.js'
import { assertOmitted } from './adapters.js'
import { NOW, fetchContext } from '../support/fetch-context.js'
import { fixture, fixtureServer, fixtureText, serve } from '../support/fixture-server.js'
import { assertSame, assertUnchanged, byBase, editEntry, seenOf, serveWithEtag, setField } from '../support/quotes.js'
import type { Seen } from '../support/quotes.js'

// the parsers on the recorded payloads' clock (Wed 26 Nov 2025)
const parseNbkr = (daily: string, weekly?: string): Quote[] => parseNbkrAt(daily, { now: NOW, weekly })

const DAILY = 'nbkr/daily.xml'
const WEEKLY = 'nbkr/weekly.xml'
const daily = fixtureText(DAILY, 'windows-1251')
const weekly = fixtureText(WEEKLY, 'windows-1251')
const base = parseNbkr(daily, weekly)

const ROW = /<Currency\b[^>]*>.*?<\/Currency>/gs

/** Rewrites the <Currency> of one ISO code. */
const editRow = (xml: string, code: string, edit: (row: string) => string): string =>
  editEntry(xml, ROW, `ISOCode="${code}"`, edit)

/** The rows in reverse order, so USD comes last. */
const reversed = (xml: string): string => {
  const rows = xml.match(ROW) ?? []
  return xml.replace(/(<CurrencyRates[^>]*>).*(<\/CurrencyRates>)/s, (_, open: string, close: string) => open + [...rows].reverse().join('\n') + close)
}

const weeklyOnly = (quotes: Quote[]): Quote[] => quotes.filter((q) => q.cadence === 'weekly')
/** The weekly quotes expected.json names; the others include IRR, whose ±6 % is checked on its own. */
const weeklyNamed = (quotes: Quote[]): Quote[] => weeklyOnly(quotes).filter((q) => q.base in expected(WEEKLY).units_per_usd)

t.test('every fixture parses to its expected units per USD, or fails typed', async (t) => {
  const all = expectedOf('nbkr')
  t.equal(all.length, 5)
  for (const want of all) {
    const text = fixtureText(want.file, 'windows-1251')
    if (want.file === 'nbkr/error-502.html') {
      assertRejects(t, () => parseNbkr(text), 'RATES_SOURCE_PARSE', /HTML/)
    } else if (want.file === 'nbkr/daily-empty.xml') {
      assertRejects(t, () => parseNbkr(text), 'RATES_SOURCE_EMPTY')
    } else if (want.file === WEEKLY) {
      // weekly.xml has no USD row: its expected values use USD from daily.xml.
      assertQuotes(t, weeklyNamed(parseNbkr(daily, text)), want)
    } else {
      t.equal(want.kind, 'rates')
      const quotes = parseNbkr(text)
      assertQuotes(t, quotes, want)
      t.ok(quotes.every((q) => q.cadence === 'daily'))
    }
  }
})

t.test('daily and weekly together: each keeps its own date and cadence', async (t) => {
  const got = byBase(base)
  assertQuotes(t, base.filter((q) => q.cadence === 'daily'), expected(DAILY))
  for (const code of ['TJS', 'UZS', 'TMT']) {
    t.equal(got.get(code)?.date, expected(WEEKLY).effective_date, `${code} dated by weekly.xml`)
    t.equal(got.get(code)?.cadence, 'weekly')
  }
  t.equal(got.get('KGS')?.cadence, 'daily')
  t.ok(got.has('GBP'), 'currencies beyond the five are kept')
  t.notOk(got.has('USD'))
})

t.test('UZS per 1 unit at 4 dp is coarse, and relErr says so', async (t) => {
  const uzs = byBase(base).get('UZS')?.relErr ?? 0
  t.ok(uzs > 0.0015, `UZS relErr ${uzs}`)
  // IRR is 0,0008 KGS per 10: kept, but its relErr tells the reconciler not to trust it.
  t.ok((byBase(base).get('IRR')?.relErr ?? 0) > 0.05)
  for (const q of base) t.ok(Number.isFinite(q.inverse) && q.inverse > 0 && q.relErr > 0, `${q.base} positive`)
  t.ok((byBase(base).get('KGS')?.relErr ?? 1) < 1e-5, 'KGS itself is fine-grained')
})

t.test('a currency in both files is taken from daily.xml', async (t) => {
  const kzt = '<Currency ISOCode="KZT">\n<Nominal>1</Nominal>\n<ValidFor>7</ValidFor>\n<Value>0,2000</Value>\n</Currency>\n'
  const got = byBase(parseNbkr(daily, weekly.replace('</CurrencyRates>', kzt + '</CurrencyRates>')))
  t.equal(got.get('KZT')?.cadence, 'daily')
  t.ok(relDiff(got.get('KZT')?.inverse ?? NaN, Number(expected(DAILY).units_per_usd.KZT)) < 1e-6)
})

t.test('format variations do not change the result', async (t) => {
  t.not(reversed(daily), daily)
  assertSame(t, parseNbkr(reversed(daily), reversed(weekly)), base, { date: false })
  assertSame(t, parseNbkr('\ufeff' + daily, '\ufeff' + weekly), base, { date: false })
  const crlf = (s: string): string => s.replace(/\n/g, '\r\n').replace(/></g, '>\r\n\t<')
  assertSame(t, parseNbkr(crlf(daily), crlf(weekly)), base, { date: false })
  // ValidFor in daily.xml, and Value before Nominal: elements are read by name.
  const shuffled = editRow(daily, 'USD', () => '<Currency ISOCode="USD"><Value>87,4500</Value><ValidFor>1</ValidFor><Nominal>1</Nominal></Currency>')
  assertSame(t, parseNbkr(shuffled, weekly), base, { date: false })
})

t.test('windows-1251 bytes decode by the prolog, with or without a charset header', async (t) => {
  const bytes = encodeCp1251(daily.replace('Name="Daily Exchange Rates"', 'Name="Официальные курсы валют"'))
  t.notOk(bytes.includes(Buffer.from('Официальные', 'utf8')), 'not UTF-8 bytes')
  for (const decoded of [decode(bytes), decode(bytes, 'application/xml'), decode(bytes, 'application/xml; charset=windows-1251')]) {
    t.ok(decoded.includes('Официальные курсы валют'), 'Cyrillic survives')
    assertQuotes(t, parseNbkr(decoded), expected(DAILY))
  }
})

t.test('a changed nominal with the value scaled gives the same rate', async (t) => {
  const d = editRow(daily, 'KZT', (row) => setField(setField(row, 'Nominal', '100'), 'Value', '17,1600'))
  const w = editRow(weekly, 'UZS', (row) => setField(setField(row, 'Nominal', '1 000'), 'Value', '7,2000'))
  const got = byBase(parseNbkr(d, w))
  const was = byBase(base)
  assertUnchanged(t, got, was, ['KZT', 'UZS'])
  t.ok((got.get('UZS')?.relErr ?? 1) < (was.get('UZS')?.relErr ?? 0), 'more digits, smaller relErr')
})

t.test('a missing currency is omitted, not zero', async (t) => {
  const got = assertOmitted(t, parseNbkr(editRow(daily, 'KZT', () => ''), editRow(weekly, 'TJS', () => '')), base, ['KZT', 'TJS'])
  t.ok(got.has('KGS') && got.has('UZS') && got.has('TMT'))
})

t.test('an unusable value skips that currency only', async (t) => {
  let d = editRow(daily, 'KZT', (row) => setField(row, 'Value', '0,0000'))
  d = editRow(d, 'EUR', (row) => setField(row, 'Value', '-101,1333'))
  d = editRow(d, 'CNY', (row) => setField(row, 'Value', 'н/д'))
  let w = editRow(weekly, 'TJS', (row) => setField(row, 'Nominal', '0'))
  w = editRow(w, 'GBP', (row) => row.replace(/<Value>[^<]*<\/Value>/, ''))
  w = w.replace('ISOCode="TMT"', 'ISOCode="T M"')
  const got = byBase(parseNbkr(d, w))
  for (const code of ['KZT', 'EUR', 'CNY', 'TJS', 'GBP', 'TMT']) t.notOk(got.has(code), `${code} skipped`)
  t.ok(relDiff(got.get('UZS')?.inverse ?? NaN, Number(expected(WEEKLY).units_per_usd.UZS)) < 1e-6)
  t.ok(relDiff(got.get('KGS')?.inverse ?? NaN, Number(expected(DAILY).units_per_usd.KGS)) < 1e-6)
  for (const q of got.values()) t.ok(Number.isFinite(q.inverse) && q.inverse > 0)
})

t.test('without a usable USD row in daily.xml nothing can be crossed', async (t) => {
  assertRejects(t, () => parseNbkr(editRow(daily, 'USD', () => ''), weekly), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseNbkr(editRow(daily, 'USD', (row) => setField(row, 'Value', '0,0000'))), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseNbkr(editRow(daily, 'USD', (row) => setField(row, 'Nominal', 'x'))), 'RATES_SOURCE_PARSE', /USD/)
})

t.test('malformed, empty and refused payloads', async (t) => {
  assertRejects(t, () => parseNbkr(daily, fixtureText('nbkr/daily-empty.xml').replace('Daily', 'Weekly')), 'RATES_SOURCE_EMPTY', /weekly/)
  assertRejects(t, () => parseNbkr('<CurrencyRates Date="26.11.2025"/>'), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseNbkr(daily.slice(0, 200)), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbkr(daily, weekly.slice(0, 300)), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbkr(''), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbkr('maintenance'), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbkr('<html>maintenance</html>'), 'RATES_SOURCE_PARSE', /HTML/)
  assertRejects(t, () => parseNbkr('<rates><rate/></rates>'), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbkr(daily.replace('Date="26.11.2025"', 'Date="2025-11-26"')), 'RATES_SOURCE_PARSE', /Date/)
  assertRejects(t, () => parseNbkr(daily.replace('Date="26.11.2025"', 'Date="31.11.2025"')), 'RATES_SOURCE_PARSE', /Date/)
})

t.test('the value date is the payload\'s, a Sunday included', async (t) => {
  const quotes = parseNbkrAt(daily.replace('Date="26.11.2025"', 'Date="30.11.2025"'), { now: new Date('2025-11-30T06:00:00Z') })
  t.ok(quotes.length > 0)
  t.ok(quotes.every((q) => q.date === '2025-11-30'))
})

t.test('fetchQuotes asks both files and revalidates them with their ETags', async (t) => {
  const seen: Seen[] = []
  const server = await fixtureServer(t, (req, res) => {
    seen.push(seenOf(req))
    const file = req.url === '/nbkr/XML/daily.xml' ? DAILY : req.url === '/nbkr/XML/weekly.xml' ? WEEKLY : undefined
    if (file === undefined) {
      res.writeHead(404).end()
      return
    }
    serveWithEtag(req, res, file, 'application/xml', `"${file}"`)
  })
  const source = createNbkrSource({ origin: `${server.url}/nbkr/` })
  t.equal(source.id, 'nbkr')
  const ctx = fetchContext(t)
  const first = await source.fetchQuotes(ctx)
  t.same(seen.map((s) => s.url), ['/nbkr/XML/daily.xml', '/nbkr/XML/weekly.xml'])
  t.match(seen[0]?.ua, /^Mozilla\/5\.0/)
  assertQuotes(t, first.filter((q) => q.cadence === 'daily'), expected(DAILY))
  assertQuotes(t, weeklyNamed(first), expected(WEEKLY))
  const second = await source.fetchQuotes(ctx)
  t.same(seen.slice(2).map((s) => s.inm), [`"${DAILY}"`, `"${WEEKLY}"`], 'revalidates both')
  t.same(second, first, 'a 304 reuses the cached bodies')
  t.equal(NBKR_ORIGIN, 'https://www.nbkr.kg')
})

t.test('fetchQuotes: a weekly outage keeps the daily fixing, a daily one fails', async (t) => {
  const server = await fixtureServer(t, (req, res) => {
    const [, mode, , file] = req.url?.split('/') ?? []
    if (file === 'daily.xml' && mode !== 'daily-down' && mode !== 'daily-html') return serve(res, DAILY, 'application/xml')
    if (file === 'daily.xml' && mode === 'daily-html') return serve(res, 'nbkr/error-502.html', 'text/html')
    if (file === 'weekly.xml' && mode === 'weekly-html') return serve(res, 'nbkr/error-502.html', 'text/html')
    if (file === 'weekly.xml' && mode === 'weekly-empty') return serve(res, 'nbkr/daily-empty.xml', 'application/xml')
    if (file === 'weekly.xml' && mode === 'ok') return serve(res, WEEKLY, 'application/xml')
    serve(res, 'nbkr/error-502.html', 'text/html', 502)
  })
  const ctx = fetchContext(t)
  const fetch = async (mode: string): Promise<Quote[]> => await createNbkrSource({ origin: `${server.url}/${mode}` }).fetchQuotes(ctx)
  t.equal(weeklyOnly(await fetch('ok')).length, weeklyOnly(base).length)
  for (const mode of ['weekly-down', 'weekly-html', 'weekly-empty']) {
    const quotes = await fetch(mode)
    assertQuotes(t, quotes, expected(DAILY))
    t.ok(quotes.every((q) => q.cadence === 'daily'), `${mode}: daily quotes alone`)
  }
  await t.rejects(fetch('daily-down'), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 502 })
  await t.rejects(fetch('daily-html'), { code: 'RATES_SOURCE_PARSE', message: /HTML/ })
})

t.test('fetchQuotes: an unreachable upstream is a network error', async (t) => {
  const server = await fixtureServer(t, (_req, res) => { res.end() })
  const origin = server.url
  await server.close()
  await t.rejects(createNbkrSource({ origin }).fetchQuotes(fetchContext(t)), { code: 'RATES_SOURCE_NETWORK' })
  t.ok(fixture(DAILY).length > 0)
})
