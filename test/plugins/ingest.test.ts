import t from 'tap'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Snapshot } from '../../src/domain/rate.js'
import type { ReplayServer } from '../../src/demo/replay.js'
import { createSources } from '../../src/sources/index.js'
import { build, testConfig } from '../support/build.js'
import { fixtureText } from '../support/fixture-server.js'
import { replay, sourceEnv } from '../support/replay.js'
import { until } from '../support/until.js'
import { assertCurrent, FUTURE, futureIn, NOW, twoMoreRounds } from '../poller/replayed.js'

async function service (t: Test, upstream: ReplayServer): Promise<FastifyInstance> {
  const env = { ...sourceEnv(upstream), FX_POLL_INTERVAL_MS: '100' }
  return await build(t, { env, sources: createSources(testConfig(env)), now: () => NOW })
}

/** The snapshot once every source has answered at least twice more. */
async function afterTwoRounds (app: FastifyInstance, upstream: ReplayServer): Promise<Snapshot> {
  await twoMoreRounds(upstream)
  await app.ingest.reconcileNow()
  const s = app.store.snapshot()
  if (s === undefined) throw new Error('no snapshot')
  return s
}

t.test('a fallback feed dated 11 days ahead is refused at the edge: official rates stay official', async (t) => {
  const upstream = await replay(t, '2025-11-26')
  const ahead = fixtureText('fawazahmed0/usd-2025-11-26.json').replace('"date": "2025-11-26"', `"date": "${FUTURE}"`)
  t.not(ahead, fixtureText('fawazahmed0/usd-2025-11-26.json'))
  upstream.setOverride('fawazahmed0', (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(ahead) })
  const app = await service(t, upstream)
  assertCurrent(t, await afterTwoRounds(app, upstream))
  t.same(futureIn(app.store.observations()), [], 'no future observation is stored')
  const fawaz = app.ingest.health().find((h) => h.id === 'fawazahmed0')
  t.equal(fawaz?.ok, false)
  t.match(fawaz?.lastError, new RegExp(`${FUTURE}.*future`))
  t.match((await app.inject('/metrics')).body, /fx_source_polls_total\{source="fawazahmed0",outcome="RATES_SOURCE_DATE"\} [1-9]/)
})

t.test('the pipeline runs with the app: it polls once ready, publishes through the store, and is drained on close', async (t) => {
  const upstream = await replay(t, '2025-11-26')
  const app = await service(t, upstream)
  const snapshot = await until(() => app.ingest.health().some((h) => h.id === 'nbk' && h.ok) && app.store.snapshot(), { timeoutMs: 15_000, what: 'a poll of nbk and a publish' })
  t.ok(snapshot.seq >= 1)
  const metrics = (await app.inject('/metrics')).body
  t.match(metrics, /fx_snapshots_published_total [1-9]/, 'each publish is counted')
  t.match(metrics, /fx_source_polls_total\{source="nbk",outcome="ok"\} [1-9]/, 'each poll is counted by outcome')
  t.match(metrics, /fx_source_poll_seconds_count\{source="nbk"\} [1-9]/)
  t.same((await app.inject('/readyz')).json().sources.map((s: { id: string }) => s.id), app.ingest.health().map((h) => h.id), '/readyz reports it')
  await app.close()
  const hits = upstream.hits()
  const seq = app.store.snapshot()?.seq
  await app.ingest.reconcileNow()
  t.equal(app.store.snapshot()?.seq, seq, 'no reconcile runs once closed')
  t.same(app.ingest.health(), [], 'no source is polled after close')
  t.same(upstream.hits(), hits, 'no request after close')
})
