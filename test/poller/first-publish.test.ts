import t from 'tap'
import type { Test } from 'tap'
import { Agent } from 'undici'
import type { Quote } from '../../src/domain/rate.js'
import { createPipeline } from '../../src/poller/pipeline.js'
import type { Pipeline } from '../../src/poller/pipeline.js'
import type { Source } from '../../src/sources/source.js'
import { createMemoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/store.js'
import { SILENT_LOG, SOLE_LEADER } from '../../src/store/store.js'
import { testConfig } from '../support/build.js'
import { until } from '../support/until.js'

const CONFIG = testConfig({ FX_POLL_INTERVAL_MS: '60000' })
const NOW = new Date('2025-11-26T09:00:00Z')
let polls = 0
const kzt = (source: string, inverse: number): Source => ({
  id: source as Source['id'],
  fetchQuotes: async (): Promise<Quote[]> => {
    polls++
    return [{ base: 'KZT', inverse, date: '2025-11-26', relErr: 1e-6, cadence: 'daily' }]
  }
})

function start (t: Test, store: Store, history: { done: () => boolean, waitMs: number }): Pipeline {
  const dispatcher = new Agent()
  const pipeline = createPipeline({
    config: { ...CONFIG, currencies: ['KZT'] },
    state: store,
    leadership: SOLE_LEADER,
    sources: [kzt('nbk', 510), kzt('cbu', 510.3), kzt('cbr', 510.1)],
    dispatcher,
    now: () => NOW,
    log: SILENT_LOG,
    pollerLog: SILENT_LOG,
    reevaluateMs: 60_000,
    history
  })
  pipeline.start()
  t.teardown(async () => {
    await pipeline.close()
    await dispatcher.close()
  })
  return pipeline
}

t.test('the first snapshot of an empty store waits for the previous fixings, and carries the change', async (t) => {
  const store = createMemoryStore({ quote: 'USD', now: () => NOW })
  polls = 0
  const pipeline = start(t, store, { done: () => false, waitMs: 60_000 })
  // the polls have answered and their reconciles have run: only the missing change holds the publish back
  await until(() => polls === 3, { what: 'three polls' })
  await pipeline.reconcileNow()
  t.equal(store.snapshot(), undefined, 'nothing published while the previous fixings are on their way')
  await store.saveArchive({ archive: {}, fixings: { KZT: [{ date: '2025-11-25', price: 1 / 512, inverse: 512, basis: 'official', sources: ['nbk'] }] } })
  await pipeline.reconcileNow()
  const snapshot = await until(() => store.snapshot(), { what: 'the first snapshot' })
  t.equal(snapshot.seq, 1)
  t.match(snapshot.rates[0]?.change, { prevDate: '2025-11-25', prevPrice: 1 / 512 }, 'seq 1 already has its change')
})

t.test('a backfill that never delivers delays the first snapshot by waitMs at most', async (t) => {
  const store = createMemoryStore({ quote: 'USD', now: () => NOW })
  const started = Date.now()
  start(t, store, { done: () => false, waitMs: 300 })
  const snapshot = await until(() => store.snapshot(), { what: 'the first snapshot', timeoutMs: 10_000 })
  t.ok(Date.now() - started >= 300, 'it waited')
  t.equal(snapshot.rates[0]?.change, null, 'and publishes without a change rather than nothing')
})

t.test('the hold ends even when its timer fires before the wall clock has reached the end of it', async (t) => {
  // timers run on the loop's monotonic clock and may fire a millisecond before Date.now() gets there; a wall
  // clock running at half speed makes every timer early
  const realNow = Date.now
  const t0 = realNow()
  Date.now = () => t0 + (realNow() - t0) / 2
  t.teardown(() => { Date.now = realNow })
  const store = createMemoryStore({ quote: 'USD', now: () => NOW })
  start(t, store, { done: () => false, waitMs: 200 })
  const snapshot = await until(() => store.snapshot(), { what: 'the first snapshot', timeoutMs: 10_000 })
  t.equal(snapshot.rates[0]?.change, null)
})

t.test('a backfill that is done, or a store that already holds a snapshot, holds nothing back', async (t) => {
  const done = createMemoryStore({ quote: 'USD', now: () => NOW })
  start(t, done, { done: () => true, waitMs: 60_000 })
  t.equal((await until(() => done.snapshot(), { what: 'the first snapshot' })).rates[0]?.change, null)
  const store = createMemoryStore({ quote: 'USD', now: () => NOW })
  await store.publish({ rates: [], fixings: {}, observations: [] })
  start(t, store, { done: () => false, waitMs: 60_000 })
  const snapshot = await until(() => ((store.snapshot()?.seq ?? 0) >= 2 ? store.snapshot() : undefined), { what: 'the next snapshot' })
  t.equal(snapshot.rates.length, 1)
})
