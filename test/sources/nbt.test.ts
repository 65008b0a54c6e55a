import t from 'tap'
import type { Quote } from '../../src/domain/rate.js'
import { QuoteSchema } from '../../src/domain/rate.js'
import { decode } from '../../src/sources/http.js'
import { NBT_ORIGIN, createNbtSource, parseNbt as parseNbtAt } from '../../src/sources/nbt.js'
import { encodeCp1251 } from '../support/cp1251.js'
import { assertQuotes, assertRejects, expected, relDiff } from '../support/expected.js'
import { assertFirstFetch, assertOmitted } from './adapters.js'
import { NOW, fetchContext } from '../support/fetch-context.js'
import { fixtureServer, fixtureText, serve } from '../support/fixture-server.js'
import { assertSame, assertUnchanged, byBase, checkFixtures, editEntry, seenOf, serveWithEtag, setField } from '../support/quotes.js'
import type { Seen } from '../support/quotes.js'

// the parsers on the recorded payloads' clock (Wed 26 Nov 2025)
const parseNbt = (text: string, asked?: string): Quote[] => parseNbtAt(text, { now: NOW, asked })

const DAY = 'nbt/export-2025-11-26.xml'
const OUT_OF_RANGE = 'nbt/export-2025-12-05-out-of-range.xml'
const text = fixtureText(DAY)
const base = parseNbt(text)

const ROW = /<Valute\b[^>]*>.*?<\/Valute>\n?/gs

const editRow = (xml: string, code: string, edit: (row: string) => string): string =>
  editEntry(xml, ROW, `<CharCode>${code}</CharCode>`, edit)

t.test('every fixture parses to its expected units per USD and value date', async (t) => {
  checkFixtures(t, 'nbt', parseNbt, {
    count: { atLeast: 3 },
    validDaily: true,
    // The out-of-range answer was asked for 2025-12-05 and carries the 26th: an earlier date is fine.
    asked: (want) => want.file === OUT_OF_RANGE ? '2025-12-05' : want.effective_date ?? undefined
  })
})

t.test('format variations do not change the result', async (t) => {
  const rows = text.match(ROW) ?? []
  t.ok(rows.length > 30)
  const reordered = text.replace(/(<ValCurs[^>]*>\n).*(<\/ValCurs>)/s, (_, open: string, close: string) => open + [...rows].reverse().join('') + close)
  t.not(reordered, text)
  assertSame(t, parseNbt(reordered), base)
  assertSame(t, parseNbt('\ufeff' + text), base)
  assertSame(t, parseNbt(text.replace(/\n/g, '\r\n')), base)
  // The ID attribute is not what rows are keyed on.
  assertSame(t, parseNbt(text.replace(/ ID="\d+"/g, ' ID="810"')), base)
  // A DD.MM.YYYY root date is read too.
  assertSame(t, parseNbt(text.replace('Date="2025-11-26"', 'Date="26.11.2025"')), base)
})

t.test('windows-1251 bytes with Cyrillic names decode through the prolog', async (t) => {
  const cyr = editRow(text, 'USD', (row) => setField(row, 'Name', 'Доллар США')).replace('encoding="utf-8"', 'encoding="windows-1251"')
  const bytes = encodeCp1251(cyr)
  t.notOk(bytes.includes(Buffer.from('Доллар')), 'not UTF-8')
  const decoded = decode(bytes, 'text/xml')
  t.ok(decoded.includes('<Name>Доллар США</Name>'))
  assertSame(t, parseNbt(decoded), base)
})

t.test('a changed nominal with the value scaled gives the same rate', async (t) => {
  let xml = editRow(text, 'UZS', (row) => setField(setField(row, 'Nominal', '1000'), 'Value', '0.7630'))
  xml = editRow(xml, 'KZT', (row) => setField(setField(row, 'Nominal', '1'), 'Value', '0.01803'))
  assertUnchanged(t, byBase(parseNbt(xml)), byBase(base), ['UZS', 'KZT'])
})

t.test('a missing currency is omitted, not zero', async (t) => {
  assertOmitted(t, parseNbt(editRow(text, 'TMT', () => '')), base, ['TMT'])
})

t.test('an unusable value skips that currency only', async (t) => {
  let xml = editRow(text, 'KGS', (row) => setField(row, 'Value', '0.0000'))
  xml = editRow(xml, 'KZT', (row) => setField(row, 'Value', '—'))
  xml = editRow(xml, 'UZS', (row) => setField(row, 'Nominal', 'сто'))
  xml = editRow(xml, 'EUR', (row) => row.replace(/<Value>[^<]*<\/Value>/, ''))
  const quotes = parseNbt(xml)
  t.ok(quotes.every((q) => QuoteSchema.safeParse(q).success))
  const got = byBase(quotes)
  for (const code of ['KGS', 'KZT', 'UZS', 'EUR']) t.notOk(got.has(code), `${code} skipped`)
  t.equal(got.size, base.length - 4)
  t.ok(relDiff(got.get('TJS')?.inverse ?? NaN, 9.1845) < 1e-12)
})

t.test('without a usable USD row nothing can be crossed', async (t) => {
  assertRejects(t, () => parseNbt(editRow(text, 'USD', () => '')), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseNbt(editRow(text, 'USD', (row) => setField(row, 'Value', '-9.1845'))), 'RATES_SOURCE_PARSE', /USD/)
})

t.test('malformed and empty payloads', async (t) => {
  assertRejects(t, () => parseNbt('<?xml version="1.0" encoding="utf-8" ?>\n<ValCurs Date="2025-11-26" name="Foreign Currency Market">\n</ValCurs>\n'), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseNbt('<ValCurs Date="2025-11-26"/>'), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseNbt(text.replace('Date="2025-11-26"', 'Date="2025-02-30"')), 'RATES_SOURCE_PARSE', /Date/)
  assertRejects(t, () => parseNbt(text.replace(' Date="2025-11-26"', '')), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbt(text.slice(0, 400)), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseNbt('<html><head><title>500</title></head></html>'), 'RATES_SOURCE_PARSE', /HTML/)
  assertRejects(t, () => parseNbt('Service unavailable'), 'RATES_SOURCE_PARSE')
})

t.test('a payload dated after the date asked for is refused; an earlier one is a carry-forward', async (t) => {
  assertRejects(t, () => parseNbt(text, '2025-11-25'), 'RATES_SOURCE_DATE')
  t.ok(parseNbt(fixtureText(OUT_OF_RANGE), '2025-12-05').every((q) => q.date === '2025-11-26'))
})

t.test('relErr reflects 4-dp values per nominal', async (t) => {
  const got = byBase(base)
  const uzs = got.get('UZS')?.relErr ?? 0
  t.ok(uzs > 5e-4 && uzs < 0.0015, `UZS per 100 at 4 dp is ~0.07 %: ${uzs}`)
  for (const code of ['TJS', 'KGS', 'TMT']) t.ok((got.get(code)?.relErr ?? 1) < 1e-4, `${code} is fine-grained`)
})

t.test('fetchQuotes asks export_xml.php for the Dushanbe date', async (t) => {
  const seen: Seen[] = []
  const server = await fixtureServer(t, (req, res) => {
    seen.push(seenOf(req))
    if (req.url?.startsWith('/down/') === true) {
      res.writeHead(503, { 'content-type': 'text/html' })
      res.end('<html><body>503</body></html>')
      return
    }
    // Only the 26th's answer carries an ETag.
    if (req.url?.includes('date=2025-12-05') === true) serve(res, OUT_OF_RANGE, 'text/xml;charset=UTF-8')
    else serveWithEtag(req, res, DAY, 'text/xml;charset=UTF-8', '"v1"')
  })
  const source = createNbtSource({ origin: `${server.url}/nbt` })
  t.equal(source.id, 'nbt')
  t.equal(NBT_ORIGIN, 'https://www.nbt.tj')
  const ctx = fetchContext(t)
  await assertFirstFetch(t, source, ctx, seen, { url: '/nbt/en/kurs/export_xml.php?date=2025-11-26&export=xmlout', fixture: DAY, revalidation: { inm: '"v1"' } })
  // Asked for a future date, NBT answers its latest snapshot: quotes carry the payload's date.
  const future = await source.fetchQuotes(fetchContext(t, { now: new Date('2025-12-05T06:00:00Z') }))
  t.equal(seen.at(-1)?.url, '/nbt/en/kurs/export_xml.php?date=2025-12-05&export=xmlout')
  assertQuotes(t, future, expected(OUT_OF_RANGE))
  await t.rejects(source.fetchQuotes(fetchContext(t, { now: new Date('2025-11-25T12:00:00Z') })), { code: 'RATES_SOURCE_DATE' })
  await t.rejects(createNbtSource({ origin: `${server.url}/down` }).fetchQuotes(fetchContext(t)), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 503 })
})
