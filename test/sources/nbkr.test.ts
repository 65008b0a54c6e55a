import t from 'tap'
import type { Quote } from '../../src/domain/rate.js'
import { QuoteSchema } from '../../src/domain/rate.js'
import { decode } from '../../src/sources/http.js'
import { NBKR_ORIGIN, createNbkrSource, parseNbkr } from '../../src/sources/nbkr.js'
import { encodeCp1251 } from '../support/cp1251.js'
import { assertQuotes, assertRejects, expected, expectedOf, relDiff } from '../support/expected.js'
import type { Asserts } from '../support/expected.js'
import { fetchContext } from '../support/fetch-context.js'
import { fixture, fixtureServer, fixtureText } from '../support/fixture-server.js'

const DAILY = 'nbkr/daily.xml'
const WEEKLY = 'nbkr/weekly.xml'
const daily = fixtureText(DAILY, 'windows-1251')
const weekly = fixtureText(WEEKLY, 'windows-1251')
const base = parseNbkr(daily, weekly)

const byBase = (quotes: Quote[]): Map<string, Quote> => new Map(quotes.map((q) => [q.base, q]))
const ROW = /<Currency\b[^>]*>.*?<\/Currency>\n?/gs

function editRow (xml: string, code: string, edit: (row: string) => string): string {
  let hit = false
  const out = xml.replace(ROW, (row) => {
    if (!row.includes(`ISOCode="${code}"`)) return row
    hit = true
    return edit(row)
  })
  if (!hit) throw new Error(`no ${code} row in the fixture`)
  return out
}

const setField = (row: string, name: string, value: string): string =>
  row.replace(new RegExp(`<${name}>[^<]*</${name}>`), `<${name}>${value}</${name}>`)

function assertSame (t: Asserts, found: Quote[], wanted: Quote[]): void {
  const got = byBase(found)
  t.equal(got.size, wanted.length, 'same number of quotes')
  for (const q of wanted) {
    const g = got.get(q.base)
    t.ok(g !== undefined && relDiff(g.inverse, q.inverse) < 1e-12 && g.date === q.date && g.cadence === q.cadence, `${q.base} unchanged`)
  }
}

function assertValid (t: Asserts, quotes: Quote[]): void {
  t.ok(quotes.every((q) => QuoteSchema.safeParse(q).success), 'every quote is a valid Quote')
  t.equal(new Set(quotes.map((q) => q.base)).size, quotes.length, 'one quote per currency')
}

t.test('every fixture parses to its expected units per USD, or fails typed', async (t) => {
  const all = expectedOf('nbkr')
  t.ok(all.length >= 5)
  for (const want of all) {
    const text = fixtureText(want.file, 'windows-1251')
    if (want.file === WEEKLY) {
      // weekly.xml has no USD: it is crossed with daily.xml's USD, as expected.json does.
      const quotes = parseNbkr(daily, text)
      assertValid(t, quotes)
      // IRR per 10 at 4 dp (0,0008) is legitimately ±6 %, beyond the helper's generic bound.
      assertQuotes(t, quotes.filter((q) => q.cadence === 'weekly' && q.base !== 'IRR'), want)
    } else if (want.kind === 'failure') {
      assertRejects(t, () => parseNbkr(text), want.file.endsWith('empty.xml') ? 'RATES_SOURCE_EMPTY' : 'RATES_SOURCE_PARSE')
    } else {
      const quotes = parseNbkr(text)
      assertValid(t, quotes)
      assertQuotes(t, quotes, want)
      t.ok(quotes.every((q) => q.cadence === 'daily'))
    }
  }
})

t.test('the HTML error page is reported as such', async (t) => {
  assertRejects(t, () => parseNbkr(fixtureText('nbkr/error-502.html')), 'RATES_SOURCE_PARSE', /expected XML, got an HTML page/)
  assertRejects(t, () => parseNbkr(daily, fixtureText('nbkr/error-502.html')), 'RATES_SOURCE_PARSE', /HTML/)
})

t.test('daily and weekly quotes keep their own dates and cadences', async (t) => {
  const got = byBase(base)
  t.match(got.get('KGS'), { date: '2025-11-26', cadence: 'daily' })
  t.match(got.get('KZT'), { date: '2025-11-26', cadence: 'daily' })
  for (const code of ['TJS', 'UZS', 'TMT', 'GBP']) t.match(got.get(code), { date: '2025-11-22', cadence: 'weekly' })
  t.notOk(got.has('USD'))
  // A currency in both files is taken from daily.xml.
  const dup = weekly.replace('</CurrencyRates>', '<Currency ISOCode="KZT"><Nominal>1</Nominal><ValidFor>7</ValidFor><Value>0,1800</Value></Currency>\n</CurrencyRates>')
  const kzt = parseNbkr(daily, dup).filter((q) => q.base === 'KZT')
  t.equal(kzt.length, 1)
  t.match(kzt[0], { cadence: 'daily', inverse: got.get('KZT')?.inverse })
  assertRejects(t, () => parseNbkr(daily, weekly.replace(ROW, '')), 'RATES_SOURCE_EMPTY')
})

t.test('format variations do not change the result', async (t) => {
  const reorder = (xml: string): string => {
    const rows = xml.match(ROW) ?? []
    t.ok(rows.length >= 5)
    return xml.replace(/(<CurrencyRates[^>]*>\n).*(<\/CurrencyRates>)/s, (_, open: string, close: string) => open + [...rows].reverse().join('') + close)
  }
  t.not(reorder(daily), daily)
  assertSame(t, parseNbkr(reorder(daily), reorder(weekly)), base)
  assertSame(t, parseNbkr('\ufeff' + daily, '\ufeff' + weekly), base)
  assertSame(t, parseNbkr(daily.replace(/\n/g, '\r\n'), weekly.replace(/\n/g, '\r\n')), base)
  // No ValidFor, and indented elements.
  assertSame(t, parseNbkr(daily, weekly.replace(/<ValidFor>7<\/ValidFor>\n/g, '').replace(/\n</g, '\n  <')), base)
})

t.test('windows-1251 bytes with Cyrillic text decode through the prolog', async (t) => {
  const cyr = daily.replace('Name="Daily Exchange Rates"', 'Name="Ежедневные курсы валют"')
  const bytes = encodeCp1251(cyr)
  t.notOk(bytes.includes(Buffer.from('Ежедневные')), 'not UTF-8')
  const decoded = decode(bytes, 'application/xml')
  t.ok(decoded.includes('Ежедневные курсы валют'))
  assertSame(t, parseNbkr(decoded), parseNbkr(daily))
})

t.test('a changed nominal with the value scaled gives the same rate', async (t) => {
  let xml = editRow(daily, 'KZT', (row) => setField(setField(row, 'Nominal', '100'), 'Value', '17,1600'))
  xml = editRow(xml, 'RUB', (row) => setField(setField(row, 'Nominal', '10'), 'Value', '10,9430'))
  const w = editRow(weekly, 'UZS', (row) => setField(setField(row, 'Nominal', '100'), 'Value', '0,7200'))
  const got = byBase(parseNbkr(xml, w))
  const was = byBase(base)
  for (const code of ['KZT', 'RUB', 'UZS']) t.ok(relDiff(got.get(code)?.inverse ?? NaN, was.get(code)?.inverse ?? 0) < 1e-12, `${code} unchanged`)
  // Per 100 the value has two more significant digits: a finer quote.
  t.ok((got.get('UZS')?.relErr ?? 1) < (was.get('UZS')?.relErr ?? 0) / 50)
})

t.test('a missing currency is omitted, not zero', async (t) => {
  const got = byBase(parseNbkr(editRow(daily, 'KZT', () => ''), editRow(weekly, 'TJS', () => '')))
  t.notOk(got.has('KZT'))
  t.notOk(got.has('TJS'))
  t.equal(got.size, base.length - 2)
  t.ok(got.has('KGS') && got.has('UZS') && got.has('TMT'))
})

t.test('an unusable value skips that currency only', async (t) => {
  let xml = editRow(daily, 'KZT', (row) => setField(row, 'Value', '0,0000'))
  xml = editRow(xml, 'RUB', (row) => setField(row, 'Value', 'н/д'))
  xml = editRow(xml, 'EUR', (row) => setField(row, 'Nominal', '0'))
  xml = editRow(xml, 'CNY', (row) => setField(row, 'Value', '-12,3195'))
  let w = editRow(weekly, 'TJS', (row) => row.replace(/<Value>[^<]*<\/Value>/, ''))
  w = editRow(w, 'GBP', (row) => setField(row, 'Value', 'Infinity'))
  const quotes = parseNbkr(xml, w)
  assertValid(t, quotes)
  const got = byBase(quotes)
  for (const code of ['KZT', 'RUB', 'EUR', 'CNY', 'TJS', 'GBP']) t.notOk(got.has(code), `${code} skipped`)
  t.ok(relDiff(got.get('KGS')?.inverse ?? NaN, 87.45) < 1e-12)
  t.ok(got.has('UZS') && got.has('TMT'))
})

t.test('without a usable USD row nothing can be crossed', async (t) => {
  assertRejects(t, () => parseNbkr(editRow(daily, 'USD', () => '')), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseNbkr(editRow(daily, 'USD', (row) => setField(row, 'Value', '0,0000'))), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseNbkr(editRow(daily, 'USD', (row) => setField(row, 'Value', 'x')), weekly), 'RATES_SOURCE_PARSE', /USD/)
})

t.test('malformed payloads', async (t) => {
  assertRejects(t, () => parseNbkr(daily.slice(0, 200)), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbkr(''), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbkr('maintenance'), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbkr('<html>maintenance</html>'), 'RATES_SOURCE_PARSE', /HTML/)
  assertRejects(t, () => parseNbkr('<ValCurs Date="26.11.2025"></ValCurs>'), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbkr(daily.replace('Date="26.11.2025"', 'Date="2025/11/26"')), 'RATES_SOURCE_PARSE', /Date/)
  assertRejects(t, () => parseNbkr(daily.replace(' Date="26.11.2025"', '')), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbkr('<CurrencyRates></CurrencyRates>'), 'RATES_SOURCE_PARSE')
})

t.test('relErr follows the published digits', async (t) => {
  const got = byBase(base)
  const uzs = got.get('UZS')?.relErr ?? 0
  t.ok(uzs > 0.0015 && uzs < 0.01, `UZS per 1 unit at 4 dp is coarse (~0.7 %): ${uzs}`)
  for (const code of ['KGS', 'KZT', 'TJS', 'TMT']) t.ok((got.get(code)?.relErr ?? 1) < 0.0015, `${code} is fine-grained`)
  // A cross carries the error of both legs.
  t.ok((got.get('TJS')?.relErr ?? 0) > (got.get('KGS')?.relErr ?? Infinity))
})

t.test('fetchQuotes asks daily.xml then weekly.xml under the origin prefix', async (t) => {
  const seen: Array<{ url?: string, ua?: string, inm?: string }> = []
  let status = 200
  const server = await fixtureServer(t, (req, res) => {
    seen.push({ url: req.url, ua: req.headers['user-agent'], inm: req.headers['if-none-match'] })
    const file = req.url?.endsWith('/weekly.xml') === true ? WEEKLY : DAILY
    const etag = `"${file}"`
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag })
      res.end()
      return
    }
    if (status !== 200) {
      res.writeHead(status, { 'content-type': 'text/html' })
      res.end(fixture('nbkr/error-502.html'))
      return
    }
    res.writeHead(200, { 'content-type': 'application/xml', etag })
    res.end(fixture(file))
  })
  const source = createNbkrSource({ origin: `${server.url}/nbkr` })
  t.equal(source.id, 'nbkr')
  t.equal(NBKR_ORIGIN, 'https://www.nbkr.kg')
  const ctx = fetchContext(t)
  const first = await source.fetchQuotes(ctx)
  t.same(seen.map((s) => s.url), ['/nbkr/XML/daily.xml', '/nbkr/XML/weekly.xml'])
  t.match(seen[0]?.ua, /^Mozilla\/5\.0 /)
  assertQuotes(t, first.filter((q) => q.cadence === 'daily'), expected(DAILY))
  assertQuotes(t, first.filter((q) => q.cadence === 'weekly' && q.base !== 'IRR'), expected(WEEKLY))

  const second = await source.fetchQuotes(ctx)
  t.same(seen.slice(2).map((s) => s.inm), [`"${DAILY}"`, `"${WEEKLY}"`], 'revalidates with the ETags')
  t.same(second, first, 'a 304 reuses the cached bodies')

  status = 502
  await t.rejects(source.fetchQuotes(fetchContext(t)), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 502 })
})

t.test('fetchQuotes keeps the daily quotes when weekly.xml fails', async (t) => {
  const server = await fixtureServer(t, (req, res) => {
    if (req.url === '/XML/weekly.xml') {
      res.writeHead(503, { 'content-type': 'text/html' })
      res.end('<html>maintenance</html>')
      return
    }
    res.writeHead(200, { 'content-type': 'application/xml' })
    res.end(req.url === '/html/XML/daily.xml' ? fixture('nbkr/error-502.html') : fixture(DAILY))
  })
  const quotes = await createNbkrSource({ origin: server.url }).fetchQuotes(fetchContext(t))
  assertQuotes(t, quotes, expected(DAILY))
  t.ok(quotes.every((q) => q.cadence === 'daily'))
  await t.rejects(createNbkrSource({ origin: `${server.url}/html` }).fetchQuotes(fetchContext(t)), { code: 'RATES_SOURCE_PARSE' })
})
