import t from 'tap'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../support/build.js'
import { expected } from '../support/expected.js'
import { fixtureText } from '../support/fixture-server.js'
import { replay, sourceEnv } from '../support/replay.js'
import { until } from '../support/until.js'
import { createSources } from '../../src/sources/index.js'
import { testConfig } from '../support/build.js'
import type { Rate, Snapshot } from '../../src/domain/rate.js'
import type { ReplayServer } from '../../src/demo/replay.js'

// the service's clock: Wednesday 26 Nov 2025, so the recorded fixings are current, not stale
const NOW = new Date('2025-11-26T09:00:00Z')

const HOME: Record<string, { '2025-11-25': string, '2025-11-26': string } | undefined> = {
  KGS: { '2025-11-25': 'nbkr/daily-previous-day.xml', '2025-11-26': 'nbkr/daily.xml' },
  KZT: { '2025-11-25': 'nbk/get_rates-25.11.2025.xml', '2025-11-26': 'nbk/get_rates-26.11.2025.xml' },
  UZS: { '2025-11-25': 'cbu/all-2025-11-25.json', '2025-11-26': 'cbu/all-2025-11-26.json' },
  TJS: { '2025-11-25': 'nbt/export-2025-11-25.xml', '2025-11-26': 'nbt/export-2025-11-26.xml' }
}

/** The home bank's units per USD for a currency on a recorded day, from the fixtures' README data. */
function official (base: string, day: '2025-11-25' | '2025-11-26'): number {
  if (base === 'TMT') return 3.5
  const file = HOME[base]?.[day] as string
  return Number(expected(file).units_per_usd[base])
}

async function service (t: Test, env: Record<string, string>): Promise<FastifyInstance> {
  const config = testConfig(env)
  return await build(t, { env, sources: createSources(config), now: () => NOW })
}

/** The snapshot once two more rounds of polls leave its seq where it was. */
async function settled (app: FastifyInstance, upstream: ReplayServer): Promise<Snapshot> {
  for (let round = 0; round < 10; round++) {
    const seq = app.store.snapshot()?.seq
    const hits = upstream.hits()
    await until(() => Object.entries(hits).every(([id, n]) => (upstream.hits()[id] ?? 0) >= n + 2), { timeoutMs: 15_000, what: 'two more rounds' })
    const now = app.store.snapshot()
    if (now !== undefined && now.seq === seq) return now
  }
  throw new Error('the snapshot kept moving while the payloads stayed the same')
}

const rates = async (app: FastifyInstance): Promise<Snapshot> => (await app.inject('/v1/rates')).json()
const byBase = (s: Snapshot): Record<string, Rate> => Object.fromEntries(s.rates.map((r) => [r.base, r]))
// a rate has weighed every source that quotes it: 9 on the first recorded day (the CBR mirror has no
// archive for it) and 10 on the second
const close = (a: number, b: number): boolean => Math.abs(a - b) / b < 1e-9

t.test('serves the official rate of every currency and its change across a day switch', async (t) => {
  const upstream = await replay(t, '2025-11-25')
  const app = await service(t, { ...sourceEnv(upstream), FX_POLL_INTERVAL_MS: '100' })

  const day1 = await until(async () => {
    const s = app.store.snapshot()
    return s !== undefined && s.rates.length === 5 && s.rates.every((r) => r.date === '2025-11-25' && r.sources.length >= 9) && s
  }, { timeoutMs: 15_000, what: 'a snapshot of 2025-11-25 weighing every source' })
  for (const r of day1.rates) {
    t.ok(close(r.inverse, official(r.base, '2025-11-25')), `${r.pair} is the home bank's ${official(r.base, '2025-11-25')}`)
    t.equal(r.basis, 'official', `${r.pair} basis`)
    t.equal(r.change, null, `${r.pair} has no earlier fixing yet`)
    t.equal(r.stale, false)
  }
  const seq1 = day1.seq

  upstream.setDay('2025-11-26')
  const day2 = await until(async () => {
    const s = await rates(app)
    return s.rates.length === 5 && s.rates.every((r) => r.date === '2025-11-26' && r.change !== null && r.sources.length === 10 && r.sources.every((x) => x.date === '2025-11-26' || x.id === 'nbkr')) && s
  }, { timeoutMs: 15_000, what: 'the 2025-11-26 fixings with a change' })
  t.ok(day2.seq > seq1, 'seq moved')
  for (const r of day2.rates) {
    const want = official(r.base, '2025-11-26')
    t.ok(close(r.inverse, want), `${r.pair} is ${want}`)
    t.ok(Math.abs(r.price * r.inverse - 1) < 1e-12, `${r.pair} price × inverse = 1`)
    const prev = 1 / official(r.base, '2025-11-25')
    const pct = (1 / want - prev) / prev * 100
    t.ok(Math.abs((r.change?.pct ?? NaN) - pct) < 1e-9, `${r.pair} change ${r.change?.pct} = ${pct}`)
    t.equal(r.change?.prevDate, '2025-11-25')
  }
  t.ok(Object.is(byBase(day2).TMT?.change?.pct, 0), 'the peg moves by exactly 0, not -0')
  t.equal(byBase(day2).TMT?.cadence, 'peg')

  // polling the same payloads again changes nothing: seq stays
  const seq2 = day2.seq
  const hits = upstream.hits().nbk ?? 0
  await until(() => (upstream.hits().nbk ?? 0) >= hits + 3, { timeoutMs: 10_000, what: 'three more polls' })
  t.equal((await rates(app)).seq, seq2, 'seq does not move without a change')

  const etag = (await app.inject('/v1/rates')).headers.etag as string
  t.equal((await app.inject({ url: '/v1/rates', headers: { 'if-none-match': etag } })).statusCode, 304)
})

t.test('an outlier home value is rejected in favour of the consensus', async (t) => {
  const upstream = await replay(t, '2025-11-26')
  // NBK revises its USD fixing by +5 %: implausible against CBU, NBT, CBT, CBR and the market vote
  const nbk = fixtureText('nbk/get_rates-26.11.2025.xml').replace(/(<title>USD<\/title>\s*<description>)([\d.]+)/, (_m, p: string, v: string) => `${p}${(Number(v) * 1.05).toFixed(2)}`)
  upstream.setOverride('nbk', (_req, res) => { res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8' }).end(nbk) })
  const app = await service(t, { ...sourceEnv(upstream), FX_POLL_INTERVAL_MS: '100' })
  const kzt = await until(() => {
    const r = app.store.snapshot()?.rates.find((x) => x.base === 'KZT')
    return r !== undefined && r.sources.some((s) => s.id === 'nbk') && r.sources.length >= 5 && r
  }, { timeoutMs: 15_000, what: 'KZT with the NBK observation' })
  t.equal(kzt.basis, 'consensus')
  const home = kzt.sources.find((s) => s.id === 'nbk')
  t.equal(home?.used, false)
  t.match(home?.reason, /outlier/)
  t.ok(Math.abs(kzt.inverse - 509.87) / 509.87 < 0.01, `consensus ${kzt.inverse} is near the other banks, not ${509.87 * 1.05}`)
})

t.test('a day where every source fails keeps the last good snapshot', async (t) => {
  const upstream = await replay(t, '2025-11-26')
  const app = await service(t, { ...sourceEnv(upstream), FX_POLL_INTERVAL_MS: '100' })
  await until(() => {
    const s = app.store.snapshot()
    return s !== undefined && s.rates.length === 5 && s.rates.every((r) => r.sources.length === 10) && s
  }, { timeoutMs: 15_000, what: 'a full snapshot' })
  const good = await settled(app, upstream)
  upstream.setDay('fail')
  const before = upstream.hits()
  await until(() => Object.entries(upstream.hits()).every(([id, n]) => n >= (before[id] ?? 0) + 2), { timeoutMs: 15_000, what: 'two failed polls per source' })
  const after = await rates(app)
  t.same(after, good, 'nothing garbage is published; the snapshot is unchanged')
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200, 'still ready: the last good rates are current')
  t.ok(ready.json().sources.every((s: { ok: boolean }) => !s.ok), 'every source is reported failing')
  const metrics = (await app.inject('/metrics')).body
  t.match(metrics, /fx_source_polls_total\{source="cbr",outcome="RATES_SOURCE_HTTP"\} \d+/)
})
