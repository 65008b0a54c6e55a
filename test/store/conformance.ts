import { setTimeout as delay } from 'node:timers/promises'
import type { Test } from 'tap'
import { SnapshotSchema } from '../../src/domain/rate.js'
import type { SourceArchive } from '../../src/domain/archive.js'
import type { Fixing, Observation, Snapshot } from '../../src/domain/rate.js'
import { HISTORY_DAYS } from '../../src/store/store.js'
import type { PublishInput, Store } from '../../src/store/store.js'
import { fiveRates, publishInput, rate } from '../support/snapshot.js'

/** Builds a fresh, empty store for one test and closes it when the test ends. */
export type StoreFactory = (t: Test) => Promise<Store>

export function observation (source: string, base: string, inverse: number, date = '2025-11-26'): Observation {
  return { source, base, inverse, date, relErr: 1e-6, cadence: 'daily', fetchedAt: `${date}T06:00:00.000Z` }
}

/** YYYY-MM-DD of the n-th day after 2024-01-01. */
export function day (n: number): string {
  return new Date(Date.UTC(2024, 0, 1 + n)).toISOString().slice(0, 10)
}

/** A fixing of `inverse` units per USD on `date`, made from `sources`. */
export function fixing (date: string, inverse: number, sources = ['nbk']): Fixing {
  return { date, price: 1 / inverse, inverse, basis: 'official', sources }
}

/** One source's archive progress: `from`..`to` asked, and the quotes of the given dates. */
export function sourceArchive (from: string, to: string, quotes: Record<string, Record<string, number>> = {}): SourceArchive {
  const dated = Object.fromEntries(Object.entries(quotes).map(([date, bases]) =>
    [date, Object.fromEntries(Object.entries(bases).map(([base, inverse]) => [base, [inverse, 1e-6] as [number, number]]))]))
  return { asked: [[from, to]], quotes: dated }
}

/** What a public readiness reason looks like: a few lower-case words, no paths, addresses, numbers or error texts. */
export const PUBLIC_REASON = /^[a-z][a-z/ ]{2,40}$/

/** Publishes that must be refused: each fails SnapshotSchema, FixingSchema or ObservationSchema somewhere. */
export function invalidPublishes (): Array<[string, PublishInput]> {
  const valid = publishInput(fiveRates({ KZT: 511 }))
  const withRate = (what: Partial<ReturnType<typeof rate>>): PublishInput => ({ ...valid, rates: [...valid.rates, rate('AZN', 1.7, what)] })
  const fixing = { date: '2025-11-26', price: 1 / 511, inverse: 511, basis: 'official' as const, sources: ['nbk'] }
  return [
    ['a price of Infinity', withRate({ price: Infinity })],
    ['an inverse of NaN', withRate({ inverse: Number.NaN })],
    ['a price of 0', withRate({ price: 0 })],
    ['a negative inverse', withRate({ inverse: -1.7 })],
    ['a change of -Infinity %', withRate({ change: { pct: -Infinity, abs: -1, prevPrice: 1, prevDate: '2025-11-25' } })],
    ['a rate dated "yesterday"', withRate({ date: 'yesterday' })],
    ['a fixing priced Infinity', { ...valid, fixings: { ...valid.fixings, KZT: { ...fixing, price: Infinity } } }],
    ['a fixing with a zero inverse', { ...valid, fixings: { ...valid.fixings, KZT: { ...fixing, inverse: 0 } } }],
    ['a fixing under a key that is not a currency', { ...valid, fixings: { ...valid.fixings, '../KZT': fixing } }],
    ['an observation of Infinity', { ...valid, observations: [observation('nbk', 'KZT', Infinity)] }],
    ['an observation without a source', { ...valid, observations: [{ ...observation('nbk', 'KZT', 511), source: '' }] }]
  ]
}

/**
 * The Store contract every engine honours. `settleMs` is how long to wait for stray notifications
 * (an engine that notifies through a network round trip could deliver a duplicate late).
 */
export function conformance (t: Test, name: string, factory: StoreFactory, { settleMs = 50 } = {}): void {
  t.test(`${name}: the store contract`, async (t) => {
    t.test('is empty at first and healthy', async (t) => {
      const store = await factory(t)
      t.equal(store.snapshot(), undefined)
      t.same(store.history('KZT'), [])
      t.same(store.observations(), [])
      t.same(store.health(), { ok: true, reasons: [] })
      t.equal(store.leadership.isLeader(), true, 'a lone store may publish')
    })

    t.test('publish allocates seq 1, 2, 3 and reads back what it stored', async (t) => {
      const store = await factory(t)
      const seqs: number[] = []
      let last: Snapshot | undefined
      for (let i = 0; i < 3; i++) {
        const rates = fiveRates({ KZT: 509 + i })
        last = await store.publish(publishInput(rates))
        seqs.push(last.seq)
        t.ok(SnapshotSchema.safeParse(last).success, 'the stored snapshot is valid')
        t.same(last.rates, rates)
        t.equal(last.quote, 'USD')
      }
      t.same(seqs, [1, 2, 3])
      t.same(store.snapshot(), last)
      t.equal(store.snapshot()?.rates.find((r) => r.base === 'KZT')?.inverse, 511)
    })

    t.test('history upserts one fixing per date, oldest first', async (t) => {
      const store = await factory(t)
      await store.publish(publishInput([rate('KZT', 510, { date: day(2) })]))
      await store.publish(publishInput([rate('KZT', 511, { date: day(0) })]))
      await store.publish(publishInput([rate('KZT', 512, { date: day(1) }), rate('UZS', 12000, { date: day(1) })]))
      await store.publish(publishInput([rate('KZT', 513, { date: day(2) })]))
      t.same(store.history('KZT').map((f) => [f.date, f.inverse]), [[day(0), 511], [day(1), 512], [day(2), 513]])
      t.same(store.history('UZS').map((f) => f.date), [day(1)])
      t.same(store.history('TJS'), [])
      t.same(store.history('KZT')[0], { date: day(0), price: 1 / 511, inverse: 511, basis: 'official', sources: ['cbr'] })
    })

    t.test(`history keeps the newest ${HISTORY_DAYS} days`, async (t) => {
      const store = await factory(t)
      for (let i = 0; i < HISTORY_DAYS + 2; i++) {
        await store.publish(publishInput([rate('KGS', 87 + i / 1000, { date: day(i) })]))
      }
      const history = store.history('KGS')
      t.equal(history.length, HISTORY_DAYS)
      t.equal(history[0]?.date, day(2), 'the two oldest days are gone')
      t.equal(history.at(-1)?.date, day(HISTORY_DAYS + 1))
      t.equal(store.snapshot()?.seq, HISTORY_DAYS + 2)
    })

    t.test('observations are stored with a publish and saved without moving seq', async (t) => {
      const store = await factory(t)
      const first = [observation('nbk', 'KZT', 509.87), observation('cbr', 'KZT', 510.1)]
      const published = await store.publish({ ...publishInput(fiveRates()), observations: first })
      t.same(store.observations(), first)
      let notified = 0
      store.subscribe(() => { notified++ })
      const second = [observation('nbk', 'KZT', 509.9, '2025-11-27')]
      await store.saveObservations(second)
      t.same(store.observations(), second)
      t.same(store.snapshot(), published, 'the snapshot and its seq stay')
      const next = await store.publish(publishInput(fiveRates({ KZT: 509.9 })))
      t.equal(next.seq, published.seq + 1)
      await delay(settleMs)
      t.equal(notified, 1, 'saving observations notifies nobody')
    })

    t.test('subscribers get (snapshot, previous) once per publish until they unsubscribe', async (t) => {
      const store = await factory(t)
      const seen: Array<[number, number | undefined]> = []
      const other: number[] = []
      const unsubscribe = store.subscribe((snapshot, previous) => { seen.push([snapshot.seq, previous?.seq]) })
      store.subscribe((snapshot) => { other.push(snapshot.seq) })
      store.subscribe(() => { throw new Error('a broken listener') })
      const one = await store.publish(publishInput(fiveRates()))
      await store.publish(publishInput(fiveRates({ KZT: 511 })))
      await delay(settleMs)
      t.same(seen, [[1, undefined], [2, 1]])
      unsubscribe()
      await store.publish(publishInput(fiveRates({ KZT: 512 })))
      await delay(settleMs)
      t.same(seen, [[1, undefined], [2, 1]], 'nothing after unsubscribe')
      t.same(other, [1, 2, 3], 'other listeners still hear, past a throwing one')
      t.equal(one.seq, 1)
    })

    t.test('a snapshot, fixing or observation that fails its schema is refused: nothing stored, seq unchanged', async (t) => {
      const store = await factory(t)
      const kept = [observation('nbk', 'KZT', 509.87)]
      const published = await store.publish({ ...publishInput(fiveRates()), observations: kept })
      const history = store.history('KZT')
      let notified = 0
      store.subscribe(() => { notified++ })
      for (const [what, input] of invalidPublishes()) {
        await t.rejects(store.publish(input), { name: 'RatesError', code: 'RATES_STORE' }, what)
      }
      await t.rejects(store.saveObservations([observation('cbr', 'KZT', Number.NaN)]), { name: 'RatesError', code: 'RATES_STORE' })
      await delay(settleMs)
      t.equal(notified, 0, 'nobody was told')
      t.same(store.snapshot(), published, 'the snapshot and its seq stay')
      t.same(store.history('KZT'), history)
      t.same(store.history('AZN'), [])
      t.same(store.observations(), kept)
      t.same(store.health(), { ok: true, reasons: [] }, 'a refused publish is not an engine failure')
      const next = await store.publish(publishInput(fiveRates({ KZT: 512 })))
      t.equal(next.seq, published.seq + 1, 'the refused publishes used up no seq')
    })

    t.test('saveArchive stores progress per source and upserts fixings; seq stays and nobody is told', async (t) => {
      const store = await factory(t)
      t.same(store.archive(), {})
      const published = await store.publish(publishInput([rate('KZT', 512, { date: day(3) })]))
      let notified = 0
      store.subscribe(() => { notified++ })
      const nbk = sourceArchive(day(0), day(2), { [day(0)]: { KZT: 510 }, [day(2)]: { KZT: 511 } })
      await store.saveArchive({ archive: { nbk }, fixings: { KZT: [fixing(day(2), 511), fixing(day(0), 510)], UZS: [fixing(day(1), 12000, ['cbu'])] } })
      t.same(store.archive(), { nbk })
      t.same(store.history('KZT').map((f) => [f.date, f.inverse, f.sources]), [[day(0), 510, ['nbk']], [day(2), 511, ['nbk']], [day(3), 512, ['cbr']]])
      t.same(store.history('UZS'), [fixing(day(1), 12000, ['cbu'])])

      const cbr = sourceArchive(day(0), day(1))
      const nbkMore = sourceArchive(day(0), day(4), { [day(0)]: { KZT: 510 } })
      await store.saveArchive({ archive: { cbr, nbk: nbkMore }, fixings: { KZT: [fixing(day(0), 509, ['nbk', 'cbr'])] } })
      t.same(store.archive(), { nbk: nbkMore, cbr }, 'a source given again is replaced whole; the others stay')
      t.same(store.history('KZT')[0], fixing(day(0), 509, ['nbk', 'cbr']), 'a date already held is replaced')
      t.equal(store.history('KZT').length, 3)
      t.same(store.snapshot(), published, 'the snapshot and its seq stay')
      await delay(settleMs)
      t.equal(notified, 0, 'a save notifies nobody')
      t.equal((await store.publish(publishInput(fiveRates()))).seq, published.seq + 1)
      t.same(store.archive(), { nbk: nbkMore, cbr }, 'a publish keeps the archive')
    })

    t.test(`saveArchive keeps the newest ${HISTORY_DAYS} fixings per base`, async (t) => {
      const store = await factory(t)
      const fixings = Array.from({ length: HISTORY_DAYS + 3 }, (_, i) => fixing(day(i), 87 + i / 1000))
      await store.saveArchive({ archive: {}, fixings: { KGS: fixings } })
      const history = store.history('KGS')
      t.equal(history.length, HISTORY_DAYS)
      t.equal(history[0]?.date, day(3))
      t.equal(history.at(-1)?.date, day(HISTORY_DAYS + 2))
    })

    t.test('an archive update that would not parse back is refused and changes nothing', async (t) => {
      const store = await factory(t)
      const nbk = sourceArchive(day(0), day(1))
      await store.saveArchive({ archive: { nbk }, fixings: { KZT: [fixing(day(0), 510)] } })
      const invalid: Array<[string, Parameters<Store['saveArchive']>[0]]> = [
        ['a quote of Infinity', { archive: { cbr: sourceArchive(day(0), day(0), { [day(0)]: { KZT: Infinity } }) }, fixings: {} }],
        ['a source id with a slash', { archive: { 'c/r': sourceArchive(day(0), day(0)) }, fixings: {} }],
        ['a fixing of NaN', { archive: { nbk: sourceArchive(day(0), day(3)) }, fixings: { KZT: [fixing(day(1), Number.NaN)] } }],
        ['a base that is not a currency', { archive: {}, fixings: { '../KZT': [fixing(day(1), 511)] } }]
      ]
      for (const [what, update] of invalid) {
        await t.rejects(store.saveArchive(update), { name: 'RatesError', code: 'RATES_STORE' }, what)
      }
      t.same(store.archive(), { nbk })
      t.same(store.history('KZT'), [fixing(day(0), 510)])
    })

    t.test('close resolves', async (t) => {
      const store = await factory(t)
      await store.publish(publishInput(fiveRates()))
      await t.resolves(store.close())
    })
  })
}
