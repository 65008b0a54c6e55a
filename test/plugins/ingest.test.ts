import t from 'tap'
import type { Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Observation, Snapshot } from '../../src/domain/rate.js'
import { HOME_SOURCE } from '../../src/domain/sources.js'
import type { ReplayServer } from '../../src/demo/replay.js'
import { createSources } from '../../src/sources/index.js'
import type { Store } from '../../src/store/store.js'
import { createEmbeddedStore } from '../../src/store/embedded.js'
import { build, testConfig } from '../support/build.js'
import { fixtureText } from '../support/fixture-server.js'
import { replay, sourceEnv } from '../support/replay.js'
import { until } from '../support/until.js'
import { fixtureObservations, run } from '../reconciler/builders.js'

// the service's clock: Wednesday 26 Nov 2025, the recorded payloads' day
const NOW = new Date('2025-11-26T09:00:00Z')
const FUTURE = '2025-12-07' // 11 days ahead

async function service (t: Test, upstream: ReplayServer, store?: Store): Promise<FastifyInstance> {
  const env = { ...sourceEnv(upstream), FX_POLL_INTERVAL_MS: '100' }
  return await build(t, { env, sources: createSources(testConfig(env)), now: () => NOW, ...(store !== undefined && { store }) })
}

/** The snapshot once every source has answered at least twice more. */
async function afterTwoRounds (app: FastifyInstance, upstream: ReplayServer): Promise<Snapshot> {
  const hits = upstream.hits()
  await until(() => Object.entries(upstream.hits()).every(([id, n]) => n >= (hits[id] ?? 0) + 2) && Object.keys(upstream.hits()).length >= 10, { timeoutMs: 15_000, what: 'two more rounds of every source' })
  await app.ingest.reconcileNow()
  const s = app.store.snapshot()
  if (s === undefined) throw new Error('no snapshot')
  return s
}

function assertCurrent (t: Test, s: Snapshot): void {
  t.same(s.rates.map((r) => r.base), ['KGS', 'KZT', 'TJS', 'UZS', 'TMT'])
  for (const r of s.rates) {
    t.equal(r.date, '2025-11-26', `${r.pair} is dated 2025-11-26`)
    t.equal(r.basis, 'official', `${r.pair} is official`)
    const home = HOME_SOURCE[r.base] ?? 'peg'
    t.equal(r.sources.find((v) => v.id === home)?.used, true, `${r.pair}: ${home} is used`)
    t.notOk(r.sources.some((v) => /behind/.test(v.reason ?? '') || v.date > '2025-11-27'), `${r.pair}: nobody behind, nothing from the future`)
  }
}

const futureIn = (list: readonly Observation[]): Observation[] => list.filter((o) => o.date > '2025-11-27')

t.test('a fallback feed dated 11 days ahead is refused at the edge: official rates stay official', async (t) => {
  const upstream = await replay(t, '2025-11-26')
  const ahead = fixtureText('fawazahmed0/usd-2025-11-26.json').replace('"date": "2025-11-26"', `"date": "${FUTURE}"`)
  t.not(ahead, fixtureText('fawazahmed0/usd-2025-11-26.json'))
  upstream.setOverride('fawazahmed0', (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(ahead) })
  const app = await service(t, upstream)
  assertCurrent(t, await afterTwoRounds(app, upstream))
  t.same(futureIn(app.store.observations()), [], 'no future observation is stored')
  const fawaz = app.ingest.poller?.health().find((h) => h.id === 'fawazahmed0')
  t.equal(fawaz?.ok, false)
  t.match(fawaz?.lastError, new RegExp(`${FUTURE}.*future`))
  t.match((await app.inject('/metrics')).body, /fx_source_polls_total\{source="fawazahmed0",outcome="RATES_SOURCE_DATE"\} [1-9]/)
})

t.test('a future observation an older version persisted is dropped at start-up and from the state', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fx-ingest-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // the state the issue describes: the fallback feed stored 11 days ahead, every rate published with its date
  const observations = fixtureObservations().map((o) => o.source === 'fawazahmed0' ? { ...o, date: FUTURE } : o)
  const rates = run(fixtureObservations()).rates.map((r) => ({ ...r, date: FUTURE, basis: 'consensus' as const }))
  const seed = await createEmbeddedStore({ dir, quote: 'USD' })
  await seed.publish({ rates, fixings: {}, observations })
  await seed.close()

  // every upstream down: only the start-up check can keep the stored future observation out
  const upstream = await replay(t, 'fail')
  const app = await service(t, upstream, await createEmbeddedStore({ dir, quote: 'USD', now: () => NOW }))
  await app.ingest.reconcileNow()
  t.same(futureIn(app.store.observations()), [], 'dropped before any poll succeeded')
  t.ok(app.store.snapshot()?.rates.every((r) => r.date === '2025-11-26'), 'the stored evidence of the current day is published again')
  // then the upstreams answer again, the fallback feed still down
  upstream.setDay('2025-11-26')
  upstream.setOverride('fawazahmed0', 'fail')
  assertCurrent(t, await afterTwoRounds(app, upstream))
  t.same(futureIn(app.store.observations()), [], 'the stored observations hold nothing from the future')
  await app.close()
  const reread = await createEmbeddedStore({ dir, quote: 'USD' })
  t.teardown(() => reread.close())
  t.same(futureIn(reread.observations()), [], 'nor does the state file')
  t.ok(reread.observations().some((o) => o.source === 'nbk'), 'the good observations are kept')
})
