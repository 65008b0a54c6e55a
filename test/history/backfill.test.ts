import t from 'tap'
import { addDays, isWeekday } from '../../src/domain/dates.js'
import { createBackfill } from '../../src/history/backfill.js'
import type { BackfillOptions } from '../../src/history/backfill.js'
import type { Source } from '../../src/sources/source.js'
import { createMemoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/store.js'
import { banks, dispatcher, truth } from './calendar.js'
import type { Call } from './calendar.js'
import { until } from '../support/until.js'

const TODAY = '2026-11-25' // a Wednesday
const NOW = new Date(`${TODAY}T09:00:00Z`)
const SILENT = { info () {}, warn () {}, error () {} }
const CURRENCIES = ['KGS', 'KZT', 'TJS', 'UZS', 'TMT']

function backfillOf (store: Store, sources: Source[], extra: Partial<BackfillOptions> = {}): ReturnType<typeof createBackfill> {
  return createBackfill({
    sources,
    state: store,
    currencies: CURRENCIES,
    outlierPct: 1.5,
    days: 30,
    paceMs: 5,
    dispatcher,
    timeoutMs: 1000,
    maxBytes: 1_000_000,
    userAgent: 'test',
    now: () => NOW,
    log: SILENT,
    flushMs: 5,
    ...extra
  })
}

async function runPass (store: Store, sources: Source[], extra: Partial<BackfillOptions> = {}): Promise<void> {
  const backfill = backfillOf(store, sources, extra)
  backfill.start()
  await backfill.idle()
  await backfill.stop()
}

const datesOf = (store: Store, base: string): string[] => store.history(base).map((f) => f.date)

t.test('a fresh store gets every business day of the window, the home bank official where it published', async (t) => {
  const calls: Call[] = []
  const store = createMemoryStore({ quote: 'USD' })
  await runPass(store, banks(calls))
  const from = addDays(TODAY, -29)
  const weekdays: string[] = []
  for (let d = from; d <= TODAY; d = addDays(d, 1)) if (isWeekday(d)) weekdays.push(d)
  t.same(datesOf(store, 'KZT'), weekdays, 'KZT: every weekday, no weekend (NBK carried Friday forward)')
  for (const f of store.history('KZT')) {
    t.equal(f.basis, 'official', `KZT ${f.date} official`)
    t.ok(f.sources.includes('nbk'), `KZT ${f.date} names nbk`)
    t.ok(Math.abs(f.inverse / truth('KZT', f.date) - 1) < 1e-12, `KZT ${f.date} is NBK's value`)
  }
  t.ok(datesOf(store, 'TJS').length === 30, 'TJS: NBT publishes every calendar day, so every day has a fixing')
  t.ok(store.history('KGS').every((f) => f.basis === 'consensus' && f.sources.length >= 2), 'KGS has no archive of its own: consensus, labelled so')
  t.ok(store.history('TMT').every((f) => f.inverse === 3.5), 'TMT on its peg')
  const asked = new Set(calls.map((c) => `${c.id} ${c.date}`))
  t.equal(asked.size, calls.length, 'no date asked twice of one source')
  t.ok(calls.filter((c) => c.id === 'nbk').length < 30, 'a weekend answered with Friday\'s set is not asked day by day')
})

t.test('one request at a time per source, newest first, at the configured pace', async (t) => {
  const calls: Call[] = []
  const store = createMemoryStore({ quote: 'USD' })
  const paceMs = 40
  await runPass(store, banks(calls), { days: 8, paceMs })
  for (const id of ['nbk', 'cbu', 'nbt', 'cbt', 'cbr']) {
    const mine = calls.filter((c) => c.id === id)
    t.ok(mine.length >= 4, `${id}: ${mine.length} requests`)
    t.equal(mine[0]?.date, TODAY, `${id}: today first`)
    t.equal(mine[1]?.date, addDays(TODAY, -1), `${id}: then the previous day`)
    for (let i = 1; i < mine.length; i++) {
      const [a, b] = [mine[i - 1], mine[i]] as [Call, Call]
      t.ok(b.start >= a.end, `${id}: request ${i} starts after the previous one ended`)
      t.ok(b.start - a.end >= paceMs - 1, `${id}: request ${i} starts ${b.start - a.end} ms after the previous one ended`)
      t.ok(b.date < a.date, `${id}: newest first`)
    }
  }
})

t.test('a restart asks nothing already stored; a week of downtime is filled in', async (t) => {
  const store = createMemoryStore({ quote: 'USD' })
  await runPass(store, banks([]))
  const again: Call[] = []
  await runPass(store, banks(again))
  t.same(again.filter((c) => c.date < TODAY), [], 'no past date asked again')
  const later = new Date(NOW.getTime() + 7 * 86_400_000)
  const week: Call[] = []
  await runPass(store, banks(week), { now: () => later })
  const laterToday = addDays(TODAY, 7)
  t.ok(week.length > 0 && week.every((c) => c.date > TODAY && c.date <= laterToday), 'only the days since are asked')
  const kzt = datesOf(store, 'KZT')
  for (let d = addDays(TODAY, 1); d <= laterToday; d = addDays(d, 1)) {
    if (isWeekday(d)) t.ok(kzt.includes(d), `KZT ${d} filled in`)
  }
})

t.test('a failing archive leaves its dates to the others and is asked again next pass', async (t) => {
  const bad = addDays(TODAY, -6) // a Thursday
  const store = createMemoryStore({ quote: 'USD' })
  const calls: Call[] = []
  await runPass(store, banks(calls, { nbk: (d) => d === bad }))
  const kzt = store.history('KZT').find((f) => f.date === bad)
  t.equal(kzt?.basis, 'consensus', 'KZT on that day from the other banks')
  t.notOk(kzt?.sources.includes('nbk'))
  const retry: Call[] = []
  await runPass(store, banks(retry))
  t.same(retry.filter((c) => c.id === 'nbk' && c.date < TODAY).map((c) => c.date), [bad], 'only the failed date is asked again')
  const fixed = store.history('KZT').find((f) => f.date === bad)
  t.equal(fixed?.basis, 'official', 'and the bank\'s own value replaces the consensus')
})

t.test('a source failing throughout gives up after a few requests and blocks nothing', async (t) => {
  const store = createMemoryStore({ quote: 'USD' })
  const calls: Call[] = []
  await runPass(store, banks(calls, { cbr: () => true }))
  t.equal(calls.filter((c) => c.id === 'cbr').length, 3, 'three failures in a row end its pass')
  t.ok(store.history('KZT').length > 15, 'the others filled the history')
})

t.test('newest first: the previous fixings are stored within the first requests, deeper history after', async (t) => {
  const store = createMemoryStore({ quote: 'USD' })
  const calls: Call[] = []
  let reconciles = 0
  const backfill = backfillOf(store, banks(calls), { days: 200, paceMs: 20, onHistory: () => { reconciles++ } })
  t.notOk(backfill.done())
  backfill.start()
  t.teardown(() => backfill.stop())
  await until(() => CURRENCIES.every((base) => store.history(base).some((f) => f.date < TODAY)), { what: 'a fixing before today for every currency' })
  t.ok(calls.length < 5 * 10, `after ${calls.length} requests of the ~800 the window takes`)
  t.ok(reconciles > 0, 'and the pipeline was told to reconcile')
  t.notOk(backfill.done(), 'the pass goes on')
  await backfill.stop()
})

t.test('nothing at all with FX_HISTORY_DAYS=0', async (t) => {
  const store = createMemoryStore({ quote: 'USD' })
  const calls: Call[] = []
  const backfill = backfillOf(store, banks(calls), { days: 0 })
  t.ok(backfill.done(), 'nothing to wait for')
  backfill.start()
  await backfill.idle()
  t.same(calls, [])
  t.same(store.archive(), {})
})
