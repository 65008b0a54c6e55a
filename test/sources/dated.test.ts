import t from 'tap'
import type { Test } from 'tap'
import { ARCHIVE_TEMPLATES, renderArchive } from '../../src/demo/archive-formats.js'
import { archiveRate } from '../../src/demo/archive-rate.js'
import type { SourceId } from '../../src/domain/sources.js'
import { createSources } from '../../src/sources/index.js'
import { isDatedSource } from '../../src/sources/url-source.js'
import type { DatedSource } from '../../src/sources/url-source.js'
import { fetchContext } from '../support/fetch-context.js'
import { fixture, fixtureServer } from '../support/fixture-server.js'

// A Tuesday, far from the shipped payloads' days, so no recorded file could answer it.
const ASKED = '2026-03-10'
const NOW = new Date('2026-03-17T09:00:00Z')

const URLS: Record<string, string> = {
  nbk: '/rss/get_rates.cfm?fdate=10.03.2026',
  cbu: '/en/arkhiv-kursov-valyut/json/all/2026-03-10/',
  nbt: '/en/kurs/export_xml.php?date=2026-03-10&export=xmlout',
  cbt: '/kurs/2026/10032026.xml',
  cbr: '/scripts/XML_daily.asp?date_req=10/03/2026',
  'cbr-xml-daily': '/archive/2026/03/10/daily_json.js',
  frankfurter: '/v2/rates?base=USD&quotes=KGS,KZT,RUB,TJS,TMT,UZS&date=2026-03-10',
  fawazahmed0: '/npm/@fawazahmed0/currency-api@2026-03-10/v1/currencies/usd.json'
}

type Answer = { status: number, type: string, body: Buffer } | 'etag'

/** One source against a server that answers every request with `answer` and records the paths asked. */
async function against (t: Test, id: SourceId, answer: Answer): Promise<{ source: DatedSource, paths: string[], conditional: string[] }> {
  const paths: string[] = []
  const conditional: string[] = []
  const payload = renderArchive(id, fixture(ARCHIVE_TEMPLATES[id]?.file ?? ''), ASKED, (base, date) => archiveRate(base, date))
  const server = await fixtureServer(t, (req, res) => {
    paths.push((req.url ?? '').slice(id.length + 1))
    const since = req.headers['if-none-match']
    if (typeof since === 'string') conditional.push(since)
    if (answer !== 'etag') return res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body)
    if (since === '"v1"') return res.writeHead(304, { etag: '"v1"' }).end()
    res.writeHead(200, { 'content-type': ARCHIVE_TEMPLATES[id]?.type ?? '', etag: '"v1"' }).end(payload)
  })
  const [source] = createSources({ sources: [id], sourceUrls: { [id]: `${server.url}/${id}` } })
  if (source === undefined || !isDatedSource(source)) throw new Error(`${id} is not a dated source`)
  return { source, paths, conditional }
}

const html = { status: 200, type: 'text/html', body: Buffer.from('<!DOCTYPE html><html><body>maintenance</body></html>') }

for (const id of Object.keys(URLS) as SourceId[]) {
  const template = ARCHIVE_TEMPLATES[id]
  if (template === undefined) throw new Error(`${id} has no archive template`)
  const dated = (date: string): Answer => ({ status: 200, type: template.type, body: renderArchive(id, fixture(template.file), date, (base, d) => archiveRate(base, d)) })

  t.test(`${id}: fetchDay asks its archive URL once and parses another day's payload`, async (t) => {
    const { source, paths } = await against(t, id, dated(ASKED))
    const quotes = await source.fetchDay(fetchContext(t, { now: NOW }), ASKED)
    t.same(paths, [URLS[id]], 'exactly one request, for the day asked')
    t.ok(quotes.length > 0 && quotes.every((q) => q.date === ASKED), 'dated as asked')
    const kzt = quotes.find((q) => q.base === 'KZT')
    t.ok(kzt !== undefined && Math.abs(kzt.inverse / archiveRate('KZT', ASKED) - 1) <= kzt.relErr * 1.000001, 'the payload\'s values, not the recording\'s')
  })

  t.test(`${id}: an earlier payload is a carry-forward, a later one is refused`, async (t) => {
    const earlier = await against(t, id, dated('2026-03-07'))
    t.ok((await earlier.source.fetchDay(fetchContext(t, { now: NOW }), ASKED)).every((q) => q.date === '2026-03-07'))
    const later = await against(t, id, dated('2026-03-11'))
    await t.rejects(later.source.fetchDay(fetchContext(t, { now: NOW }), ASKED), { code: 'RATES_SOURCE_DATE' })
  })

  t.test(`${id}: a 404 is no publication, a 500 or an HTML page rejects`, async (t) => {
    const missing = await against(t, id, { status: 404, type: 'text/html', body: Buffer.from('<html>404 Not Found</html>') })
    t.same(await missing.source.fetchDay(fetchContext(t, { now: NOW }), ASKED), [])
    t.equal(missing.paths.length, 1, 'no step back')
    const failing = await against(t, id, { status: 500, type: 'text/plain', body: Buffer.from('oops') })
    await t.rejects(failing.source.fetchDay(fetchContext(t, { now: NOW }), ASKED), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 500 })
    const page = await against(t, id, html)
    await t.rejects(page.source.fetchDay(fetchContext(t, { now: NOW }), ASKED), { code: 'RATES_SOURCE_PARSE' })
  })
}

t.test('a day asked years back is judged against that day, not refused as too old for a live feed', async (t) => {
  for (const id of Object.keys(URLS) as SourceId[]) {
    const template = ARCHIVE_TEMPLATES[id]
    if (template === undefined) continue
    const old = '2021-03-10'
    const body = renderArchive(id, fixture(template.file), old, (base, d) => archiveRate(base, d))
    const { source } = await against(t, id, { status: 200, type: template.type, body })
    const quotes = await source.fetchDay(fetchContext(t, { now: NOW }), old)
    t.ok(quotes.length > 0 && quotes.every((q) => q.date === old), `${id}: five years back`)
    await t.rejects(source.fetchQuotes(fetchContext(t, { now: NOW })), { code: 'RATES_SOURCE_DATE' }, `${id}: the same payload is too old for the live poll`)
  }
})

t.test('a dated URL is asked conditionally again: the 304 reuses the cached body', async (t) => {
  const { source, conditional } = await against(t, 'cbr', 'etag')
  const ctx = fetchContext(t, { now: NOW })
  const first = await source.fetchDay(ctx, ASKED)
  const again = await source.fetchDay({ ...ctx, signal: AbortSignal.timeout(5000) }, ASKED)
  t.same(conditional, ['"v1"'], 'the second request carried the validator')
  t.same(again, first)
})
