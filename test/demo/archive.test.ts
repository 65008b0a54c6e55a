import t from 'tap'
import type { Test } from 'tap'
import { addDays } from '../../src/domain/dates.js'
import type { Quote } from '../../src/domain/rate.js'
import { ARCHIVE_ANCHOR, ARCHIVE_BASES } from '../../src/demo/archive-rate.js'
import { archiveRate, startReplay } from '../../src/demo/replay.js'
import type { ArchiveFaults, ReplayServer } from '../../src/demo/replay.js'
import { createSources } from '../../src/sources/index.js'
import { isDatedSource } from '../../src/sources/url-source.js'
import type { DatedSource } from '../../src/sources/url-source.js'
import { fetchContext } from '../support/fetch-context.js'
import { FIXTURES } from '../support/fixture-server.js'

// The replay's today is a Wednesday; the recorded anchor day is moved onto it.
const TODAY = '2026-06-17'
const SHIFT = Math.round((Date.parse(TODAY) - Date.parse(ARCHIVE_ANCHOR)) / 86_400_000)
const NOW = new Date(`${TODAY}T09:00:00Z`)
const DATED = ['nbk', 'cbu', 'nbt', 'cbt', 'cbr', 'cbr-xml-daily', 'frankfurter', 'fawazahmed0'] as const
type DatedId = typeof DATED[number]

const WED = '2026-06-10'
const SAT = '2026-06-13'
const SUN = '2026-06-14'
const MON = '2026-06-15'
const FRI = '2026-06-12'
const OLD = addDays(TODAY, -301) // a Wednesday ten months back

/** Value date each archive answers per date asked; null: a 404, no publication that day. */
const CALENDAR: Record<DatedId, Record<string, string | null>> = {
  nbk: { [WED]: WED, [SAT]: FRI, [SUN]: FRI, [MON]: MON, [OLD]: OLD },
  cbu: { [WED]: WED, [SAT]: FRI, [SUN]: FRI, [MON]: MON, [OLD]: OLD },
  nbt: { [WED]: WED, [SAT]: SAT, [SUN]: SUN, [MON]: MON, [OLD]: OLD },
  cbt: { [WED]: WED, [SAT]: SAT, [SUN]: null, [MON]: MON, [OLD]: OLD },
  cbr: { [WED]: WED, [SAT]: SAT, [SUN]: SAT, [MON]: SAT, [OLD]: OLD },
  'cbr-xml-daily': { [WED]: WED, [SAT]: SAT, [SUN]: null, [MON]: null, [OLD]: OLD },
  frankfurter: { [WED]: WED, [SAT]: FRI, [SUN]: FRI, [MON]: MON, [OLD]: OLD },
  fawazahmed0: { [WED]: WED, [SAT]: SAT, [SUN]: SUN, [MON]: MON, [OLD]: OLD }
}

/** Currencies of our five (and RUB) each source publishes. */
const PUBLISHED: Record<DatedId, readonly string[]> = {
  nbk: ['KGS', 'KZT', 'RUB', 'TJS', 'UZS'],
  cbu: ARCHIVE_BASES,
  nbt: ARCHIVE_BASES,
  cbt: ARCHIVE_BASES,
  cbr: ARCHIVE_BASES,
  'cbr-xml-daily': ARCHIVE_BASES,
  frankfurter: ARCHIVE_BASES,
  fawazahmed0: ARCHIVE_BASES
}

async function setup (t: Test, archiveFaults: ArchiveFaults = {}): Promise<{ replay: ReplayServer, sources: Map<string, DatedSource> }> {
  const replay = await startReplay({ fixturesDir: FIXTURES, day: '2025-11-26', shiftDays: SHIFT, clock: () => NOW.getTime(), archiveFaults })
  t.teardown(() => replay.close())
  const sources = new Map<string, DatedSource>()
  for (const source of createSources({ sources: DATED, sourceUrls: Object.fromEntries(DATED.map((id) => [id, replay.urlOf(id)])) })) {
    if (isDatedSource(source)) sources.set(source.id, source)
  }
  return { replay, sources }
}

function assertRates (t: Test, id: DatedId, quotes: Quote[], date: string): void {
  t.ok(quotes.length > 0 && quotes.every((q) => q.date === date), `${id}: dated ${date}`)
  for (const base of PUBLISHED[id]) {
    const q = quotes.find((x) => x.base === base)
    if (q === undefined) {
      t.fail(`${id}: ${base} missing on ${date}`)
      continue
    }
    const truth = archiveRate(base, date, SHIFT)
    const off = Math.abs(q.inverse / truth - 1)
    // within the source's own quantisation, and never more than the consensus' half a percent
    t.ok(off <= q.relErr * 1.000001 + 1e-12 && off < 0.005, `${id}: ${base} ${q.inverse} vs ${truth} (off ${off.toExponential(2)}, relErr ${q.relErr.toExponential(2)})`)
  }
}

for (const id of DATED) {
  t.test(`${id}: the archive answers any past date in the bank's calendar with archiveRate's values`, async (t) => {
    const { replay, sources } = await setup(t)
    const source = sources.get(id)
    if (source === undefined) throw new Error(`${id} is not dated`)
    for (const [asked, expected] of Object.entries(CALENDAR[id])) {
      const quotes = await source.fetchDay(fetchContext(t, { now: NOW }), asked)
      if (expected === null) t.same(quotes, [], `${id}: no publication for ${asked}`)
      else assertRates(t, id, quotes, expected)
    }
    const asked = replay.requests().filter((r) => r.id === id).map((r) => r.date)
    t.same(asked, Object.keys(CALENDAR[id]), `${id}: one request per day asked, each logged with its date`)
  })
}

t.test('the sources agree within half a percent, Wednesday after Wednesday', async (t) => {
  const { sources } = await setup(t)
  for (let back = 7; back <= 126; back += 14) {
    const asked = addDays(TODAY, -back)
    const all: Quote[] = []
    for (const source of sources.values()) all.push(...await source.fetchDay(fetchContext(t, { now: NOW }), asked))
    for (const base of ARCHIVE_BASES) {
      const values = all.filter((q) => q.base === base && q.date === asked).map((q) => q.inverse)
      const spread = Math.max(...values) / Math.min(...values) - 1
      t.ok(values.length >= 5 && spread < 0.005, `${asked} ${base}: ${values.length} sources, spread ${spread.toExponential(2)}`)
    }
  }
})

t.test('archiveRate moves a few tenths of a percent a day, per currency, and TMT keeps its peg', async (t) => {
  for (const base of ARCHIVE_BASES) {
    let biggest = 0
    let total = 0
    for (let day = 0; day < 400; day++) {
      const step = Math.abs(Math.log(archiveRate(base, addDays('2025-01-01', day + 1)) / archiveRate(base, addDays('2025-01-01', day))))
      biggest = Math.max(biggest, step)
      total += step
    }
    if (base === 'TMT') t.equal(biggest, 0, 'TMT stays on 3.5')
    else t.ok(biggest < 0.006 && total / 400 > 0.0005, `${base}: largest daily move ${biggest.toFixed(4)}, mean ${(total / 400).toFixed(4)}`)
  }
  t.equal(archiveRate('TMT', '2024-02-29'), 3.5)
  t.equal(archiveRate('KZT', ARCHIVE_ANCHOR), 509.87, 'the anchor day carries the recorded rate')
  t.equal(archiveRate('KZT', TODAY, SHIFT), 509.87, 'moved with the replay')
  t.not(archiveRate('KZT', '2026-01-10'), archiveRate('UZS', '2026-01-10') / 12041.2 * 509.87, 'currencies move differently')
  t.throws(() => archiveRate('EUR', TODAY), RangeError)
})

t.test('faults are served on the dates chosen, for every source, and other dates are untouched', async (t) => {
  const faults: ArchiveFaults = Object.fromEntries(DATED.map((id) => [id, { [WED]: 'error', [OLD]: 'html', [SAT]: 'wrong-date' }]))
  const { replay, sources } = await setup(t, faults)
  for (const [id, source] of sources) {
    const ctx = (): ReturnType<typeof fetchContext> => fetchContext(t, { now: NOW })
    await t.rejects(source.fetchDay(ctx(), WED), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 500 }, `${id}: error`)
    await t.rejects(source.fetchDay(ctx(), OLD), { code: 'RATES_SOURCE_PARSE' }, `${id}: html`)
    await t.rejects(source.fetchDay(ctx(), SAT), { code: 'RATES_SOURCE_DATE' }, `${id}: wrong date`)
    t.ok((await source.fetchDay(ctx(), MON)).length > 0 || CALENDAR[id as DatedId][MON] === null, `${id}: a date without a fault`)
  }
  replay.setArchiveFaults({})
  const nbk = sources.get('nbk')
  t.ok(nbk !== undefined && (await nbk.fetchDay(fetchContext(t, { now: NOW }), WED)).length > 0, 'faults can be cleared')
})

t.test('future dates answer as each archive does; the live URLs still answer the recording', async (t) => {
  const { replay, sources } = await setup(t)
  const later = addDays(TODAY, 3)
  const results: Record<string, string> = {}
  for (const [id, source] of sources) {
    try {
      const quotes = await source.fetchDay(fetchContext(t, { now: NOW }), later)
      results[id] = quotes.length === 0 ? '404' : quotes[0]?.date ?? ''
    } catch (err) {
      results[id] = (err as { code?: string }).code ?? String(err)
    }
  }
  t.same(results, {
    nbk: TODAY, cbu: TODAY, nbt: TODAY, cbt: '404', cbr: 'RATES_SOURCE_PARSE', 'cbr-xml-daily': '404', frankfurter: '404', fawazahmed0: '404'
  })
  const live = await sources.get('cbr')?.fetchQuotes(fetchContext(t, { now: NOW }))
  t.equal(live?.find((q) => q.base === 'KZT')?.inverse, (await sources.get('cbr')?.fetchQuotes(fetchContext(t, { now: NOW })))?.find((q) => q.base === 'KZT')?.inverse)
  t.match(replay.requests().filter((r) => r.id === 'cbr').map((r) => r.path), [/date_req=20\/06\/2026$/, '/scripts/XML_daily.asp', '/scripts/XML_daily.asp'])
})

t.test('the request log counts requests per source with their arrival time', async (t) => {
  let clock = NOW.getTime()
  const replay = await startReplay({ fixturesDir: FIXTURES, day: '2025-11-26', shiftDays: SHIFT, clock: () => clock })
  t.teardown(() => replay.close())
  const [cbu] = createSources({ sources: ['cbu'], sourceUrls: { cbu: replay.urlOf('cbu') } })
  if (cbu === undefined || !isDatedSource(cbu)) throw new Error('cbu is dated')
  await cbu.fetchDay(fetchContext(t, { now: NOW }), WED)
  clock += 1500
  await cbu.fetchDay(fetchContext(t, { now: NOW }), MON)
  t.same(replay.requests(), [
    { id: 'cbu', path: `/en/arkhiv-kursov-valyut/json/all/${WED}/`, date: WED, at: NOW.getTime() },
    { id: 'cbu', path: `/en/arkhiv-kursov-valyut/json/all/${MON}/`, date: MON, at: NOW.getTime() + 1500 }
  ])
  t.same(replay.hits(), { cbu: 2 })
})
