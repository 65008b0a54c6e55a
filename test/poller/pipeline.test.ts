import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import type { Test } from 'tap'
import { Agent } from 'undici'
import type { Observation, Quote, Snapshot } from '../../src/domain/rate.js'
import type { SourceId } from '../../src/domain/sources.js'
import { createPipeline } from '../../src/poller/pipeline.js'
import type { Pipeline, PipelineConfig } from '../../src/poller/pipeline.js'
import { createSources } from '../../src/sources/index.js'
import type { Source } from '../../src/sources/source.js'
import { createEmbeddedStore } from '../../src/store/embedded.js'
import { createMemoryStore } from '../../src/store/memory.js'
import { SOLE_LEADER } from '../../src/store/store.js'
import type { Leadership, SnapshotState } from '../../src/store/store.js'
import { testConfig } from '../support/build.js'
import { replay, sourceEnv } from '../support/replay.js'
import { until } from '../support/until.js'
import { fixtureObservations, run } from '../reconciler/builders.js'
import { assertCurrent, FUTURE, futureIn, NOW, twoMoreRounds } from './replayed.js'

const INTERVAL_MS = 100
const CONFIG = testConfig({ FX_POLL_INTERVAL_MS: String(INTERVAL_MS) })
const DATE = '2025-11-26'
/** Long enough for several polls, jitter and backoff included. */
const POLLS_MS = INTERVAL_MS * 30

type Entry = [string, object, string]

function kzt (inverse: number, date = DATE): Quote {
  return { base: 'KZT', inverse, date, relErr: 1e-6, cadence: 'daily' }
}

function observation (source: string, inverse: number, date = DATE): Observation {
  return { ...kzt(inverse, date), source, fetchedAt: `${DATE}T06:00:00.000Z` }
}

/** A source that answers what `answer` holds now, and counts its polls. */
function fakeSource (id: SourceId, answer: { quotes: Quote[] }): Source & { polls: () => number } {
  let polls = 0
  return { id, polls: () => polls, fetchQuotes: async () => { polls++; return answer.quotes } }
}

/** Leadership the test hands over and takes back. */
function switchable (leader: boolean): Leadership & { set: (value: boolean) => void } {
  const listeners = new Set<(leader: boolean) => void>()
  return {
    isLeader: () => leader,
    onChange (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    set (value) {
      leader = value
      for (const listener of listeners) listener(value)
    }
  }
}

/** The state of a memory store whose publishes wait at a gate the test opens, counting how many run at once. */
function gated (initial: Observation[]): { state: SnapshotState, open: () => void, active: () => number, most: () => number, events: string[] } {
  const memory = createMemoryStore({ quote: 'USD', initial: { snapshot: undefined, history: {}, archive: {}, observations: initial }, now: () => NOW })
  let open = (): void => {}
  const gate = new Promise<void>((resolve) => { open = resolve })
  let active = 0
  let most = 0
  const events: string[] = []
  return {
    state: {
      ...memory,
      async publish (input) {
        most = Math.max(most, ++active)
        try {
          await gate
          const snapshot = await memory.publish(input)
          events.push(`published ${snapshot.seq}`)
          return snapshot
        } finally {
          active--
        }
      }
    },
    open: () => { open() },
    active: () => active,
    most: () => most,
    events
  }
}

interface Setup {
  state: SnapshotState
  leadership?: Leadership
  sources?: Source[]
  config?: PipelineConfig
}

function pipelineOf (t: Test, { state, leadership = SOLE_LEADER, sources = [], config = CONFIG }: Setup): { pipeline: Pipeline, logs: Entry[], published: number[], polls: string[] } {
  const logs: Entry[] = []
  const log = {
    info (obj: object, msg: string) { logs.push(['info', obj, msg]) },
    warn (obj: object, msg: string) { logs.push(['warn', obj, msg]) },
    error (obj: object, msg: string) { logs.push(['error', obj, msg]) }
  }
  const dispatcher = new Agent()
  const published: number[] = []
  const polls: string[] = []
  const pipeline = createPipeline({
    config,
    state,
    leadership,
    sources,
    dispatcher,
    now: () => NOW,
    log,
    pollerLog: log,
    reevaluateMs: 60_000,
    onPoll: (source, outcome) => { polls.push(`${source} ${outcome}`) },
    onPublish: (snapshot: Snapshot) => { published.push(snapshot.seq) }
  })
  t.teardown(async () => {
    await pipeline.close()
    await dispatcher.close()
  })
  return { pipeline, logs, published, polls }
}

t.test('new data is published; the same data polled again moves no seq; a change publishes again', async (t) => {
  const store = createMemoryStore({ quote: 'USD', now: () => NOW })
  const answer = { quotes: [kzt(511)] }
  const nbk = fakeSource('nbk', answer)
  const { pipeline, published, polls } = pipelineOf(t, { state: store, sources: [nbk] })
  pipeline.start()
  const first = await until(() => store.snapshot(), { timeoutMs: POLLS_MS, what: 'a first publish' })
  t.equal(first.seq, 1)
  t.equal(first.rates.find((r) => r.base === 'KZT')?.inverse, 511)
  t.same(store.observations().map((o) => [o.source, o.base, o.inverse]), [['nbk', 'KZT', 511]], 'the evidence is stored with it')
  t.same(published, [1])
  t.ok(polls.includes('nbk ok'))

  const after = nbk.polls()
  await until(() => nbk.polls() >= after + 2, { timeoutMs: POLLS_MS, what: 'two more polls of the same data' })
  await pipeline.reconcileNow()
  t.equal(store.snapshot(), first, 'the same data publishes nothing')
  t.same(published, [1])

  answer.quotes = [kzt(512)]
  const second = await until(() => store.snapshot()?.seq === 2 && store.snapshot(), { timeoutMs: POLLS_MS, what: 'a publish of the change' })
  t.equal(second.rates.find((r) => r.base === 'KZT')?.inverse, 512)
  t.same(published, [1, 2])
  t.ok(pipeline.health().some((h) => h.id === 'nbk' && h.ok), 'the leader reports its poll health')
})

t.test('reconciles run one at a time, each from the snapshot the one before published', async (t) => {
  const gate = gated([observation('nbk', 511)])
  const { pipeline, logs } = pipelineOf(t, { state: gate.state })
  const runs = [pipeline.reconcileNow(), pipeline.reconcileNow(), pipeline.reconcileNow()]
  await until(() => gate.active() >= 1, { what: 'a publish to wait at the gate' })
  gate.open()
  await Promise.all(runs)
  t.equal(gate.most(), 1, 'never two publishes at once')
  t.same(gate.events, ['published 1'], 'the queued reconciles found the data published: no second seq')
  t.same(logs.filter(([level]) => level === 'error'), [])
})

t.test('a failed reconcile is logged and does not stop the next one', async (t) => {
  const store = createMemoryStore({ quote: 'USD', initial: { snapshot: undefined, history: {}, archive: {}, observations: [observation('nbk', 511)] }, now: () => NOW })
  let fail = true
  const state: SnapshotState = {
    ...store,
    publish: async (input) => {
      if (fail) throw new Error('disk on fire')
      return await store.publish(input)
    }
  }
  const { pipeline, logs } = pipelineOf(t, { state })
  await t.rejects(pipeline.reconcileNow(), { message: 'disk on fire' })
  t.match(logs.filter(([level]) => level === 'error'), [['error', { err: { message: 'disk on fire' } }, 'reconcile failed']])
  fail = false
  await pipeline.reconcileNow()
  t.equal(store.snapshot()?.seq, 1)
})

t.test('polling follows leadership: gained starts it, lost stops it, and a follower publishes nothing', async (t) => {
  const store = createMemoryStore({ quote: 'USD', now: () => NOW })
  const nbk = fakeSource('nbk', { quotes: [kzt(511)] })
  const leadership = switchable(false)
  const { pipeline, logs } = pipelineOf(t, { state: store, leadership, sources: [nbk] })
  pipeline.start()
  t.same(pipeline.health(), [], 'a follower reports no poll health')
  await pipeline.reconcileNow()
  // nothing to wait for but time: a few poll intervals in which a poller would have polled
  await delay(INTERVAL_MS * 3)
  t.equal(nbk.polls(), 0, 'a follower does not poll')
  t.equal(store.snapshot(), undefined)

  leadership.set(true)
  await until(() => store.snapshot(), { timeoutMs: POLLS_MS, what: 'the new leader to poll and publish' })
  t.ok(nbk.polls() > 0)
  t.match(logs.find(([, , msg]) => msg === 'polling upstreams'), ['info', { sources: ['nbk'] }])

  leadership.set(false)
  t.same(pipeline.health(), [], 'stopped at once')
  t.ok(logs.some(([level, , msg]) => level === 'warn' && msg === 'lost leadership; polling stopped'))
  const polled = nbk.polls()
  await delay(INTERVAL_MS * 3)
  t.equal(nbk.polls(), polled, 'no poll after leadership was lost')

  leadership.set(true)
  await until(() => nbk.polls() > polled, { timeoutMs: POLLS_MS, what: 'polling to resume' })
})

t.test('stored observations that are not usable now are dropped at start and when leadership is taken over', async (t) => {
  const good = observation('nbk', 511)
  const future = observation('fawazahmed0', 512, FUTURE)
  const store = createMemoryStore({ quote: 'USD', initial: { snapshot: undefined, history: {}, archive: {}, observations: [good, future] }, now: () => NOW })
  const leadership = switchable(true)
  const { pipeline, logs } = pipelineOf(t, { state: store, leadership, sources: [fakeSource('cbr', { quotes: [] })] })
  t.match(logs, [['warn', { dropped: 1 }, 'stored observations dropped: future value date or implausible value']])
  await pipeline.reconcileNow()
  t.same(store.observations(), [good], 'the cleaned set is what gets stored')
  t.equal(store.snapshot()?.rates.find((r) => r.base === 'KZT')?.date, DATE)

  // another leader stored one meanwhile; this instance takes the lead back
  pipeline.start()
  leadership.set(false)
  await store.saveObservations([good, future])
  leadership.set(true)
  t.equal(logs.filter(([, , msg]) => msg.startsWith('stored observations dropped')).length, 2)
  await pipeline.reconcileNow()
  t.same(store.observations(), [good])
})

t.test('close waits for the queued reconcile, and nothing runs after it', async (t) => {
  const gate = gated([observation('nbk', 511)])
  const { pipeline } = pipelineOf(t, { state: gate.state })
  const reconciling = pipeline.reconcileNow()
  await until(() => gate.active() === 1, { what: 'the publish to wait at the gate' })
  const closing = pipeline.close().then(() => { gate.events.push('closed') })
  for (let i = 0; i < 5; i++) await new Promise(setImmediate)
  t.same(gate.events, [], 'close is still waiting')
  gate.open()
  await closing
  await reconciling
  t.same(gate.events, ['published 1', 'closed'])
  await pipeline.reconcileNow()
  t.same(gate.events, ['published 1', 'closed'], 'a reconcile after close does nothing')
})

t.test('a future observation an older version persisted is dropped at start-up and from the state', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fx-ingest-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // the fallback feed stored 11 days ahead, every rate published with its date
  const observations = fixtureObservations().map((o) => o.source === 'fawazahmed0' ? { ...o, date: FUTURE } : o)
  const rates = run(fixtureObservations()).rates.map((r) => ({ ...r, date: FUTURE, basis: 'consensus' as const }))
  const seed = await createEmbeddedStore({ dir, quote: 'USD' })
  await seed.publish({ rates, fixings: {}, observations })
  await seed.close()

  // every upstream down: only the start-up check can keep the stored future observation out
  const upstream = await replay(t, 'fail')
  const config = testConfig({ ...sourceEnv(upstream), FX_POLL_INTERVAL_MS: String(INTERVAL_MS) })
  const store = await createEmbeddedStore({ dir, quote: 'USD', now: () => NOW })
  t.teardown(() => store.close())
  const { pipeline } = pipelineOf(t, { state: store, sources: createSources(config), config })
  pipeline.start()
  await pipeline.reconcileNow()
  t.same(futureIn(store.observations()), [], 'dropped before any poll succeeded')
  t.ok(store.snapshot()?.rates.every((r) => r.date === '2025-11-26'), 'the stored evidence of the current day is published again')
  // then the upstreams answer again, the fallback feed still down
  upstream.setDay('2025-11-26')
  upstream.setOverride('fawazahmed0', 'fail')
  await twoMoreRounds(upstream)
  await pipeline.reconcileNow()
  assertCurrent(t, store.snapshot() as Snapshot)
  t.same(futureIn(store.observations()), [], 'the stored observations hold nothing from the future')
  await pipeline.close()
  await store.close()
  const reread = await createEmbeddedStore({ dir, quote: 'USD' })
  t.teardown(() => reread.close())
  t.same(futureIn(reread.observations()), [], 'nor does the state file')
  t.ok(reread.observations().some((o) => o.source === 'nbk'), 'the good observations are kept')
})
