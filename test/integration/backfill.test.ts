import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { addDays, civilDate } from '../../src/domain/dates.js'
import type { Snapshot } from '../../src/domain/rate.js'
import type { SourceId } from '../../src/domain/sources.js'
import { archiveRate, archiveValueDate, daysSince, startReplay } from '../../src/demo/replay.js'
import type { ArchiveFaults, ReplayServer } from '../../src/demo/replay.js'
import { createSources } from '../../src/sources/index.js'
import { createEmbeddedStore } from '../../src/store/embedded.js'
import type { Store } from '../../src/store/store.js'
import { build, testConfig } from '../support/build.js'
import { FIXTURES } from '../support/fixture-server.js'
import { startRedis } from '../support/redis.js'
import { sourceEnv } from '../support/replay.js'
import { until } from '../support/until.js'
import { pair } from '../store/redis-stores.js'

const DAYS = 30
const PACE_MS = 40
const SHIFT = daysSince('2025-11-26')
const FLOATING = ['KGS', 'KZT', 'TJS', 'UZS']
/** The sources with a dated archive. */
const ARCHIVES: SourceId[] = ['nbk', 'cbu', 'nbt', 'cbt', 'cbr', 'cbr-xml-daily', 'frankfurter', 'fawazahmed0']

// the days checked keep clear of both ends of the window, whatever the hour in each bank's zone
const TODAY = civilDate(new Date(), 0)
const inner = (): string[] => Array.from({ length: DAYS - 6 }, (_, i) => addDays(TODAY, -(DAYS - 3) + i))
const publishedBy = (id: SourceId): string[] => inner().filter((d) => archiveValueDate(id, d) === d)

async function archiveServer (t: Test, faults: ArchiveFaults = {}): Promise<ReplayServer> {
  const server = await startReplay({ fixturesDir: FIXTURES, day: '2025-11-26', shiftDays: SHIFT, archiveFaults: faults })
  t.teardown(() => server.close())
  return server
}

async function service (t: Test, upstream: ReplayServer, store: Store, extra: Record<string, string> = {}): Promise<FastifyInstance> {
  const env = { ...sourceEnv(upstream), FX_HISTORY_DAYS: String(DAYS), FX_HISTORY_PACE_MS: String(PACE_MS), FX_POLL_INTERVAL_MS: '60000', ...extra }
  return await build(t, { env, store, sources: createSources(testConfig(env)) })
}

/** Archive requests for days before yesterday: the live polls ask only today's dated URLs. */
const pastRequests = (upstream: ReplayServer): Array<{ id: string, date: string, at: number }> =>
  upstream.requests().flatMap((r) => (r.date !== undefined && r.date < addDays(TODAY, -1) ? [{ id: r.id, date: r.date, at: r.at }] : []))

t.test('a fresh start: change in the first snapshot, the window filled from the archives, politely, and nothing asked twice', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fx-backfill-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const kztDays = publishedBy('nbk')
  const cbrDays = publishedBy('cbr')
  // a day followed by a publication, so no later request carries its set forward
  const failing = (id: SourceId, n: number): string => publishedBy(id).filter((d) => archiveValueDate(id, addDays(d, 1)) === addDays(d, 1))[n] as string
  const bad = { nbk: failing('nbk', 3), cbu: failing('cbu', 5), cbr: cbrDays.filter((d) => kztDays.includes(d) && archiveValueDate('cbr', addDays(d, 1)) === addDays(d, 1))[6] as string }
  const upstream = await archiveServer(t, { nbk: { [bad.nbk]: 'html' }, cbu: { [bad.cbu]: 'error' }, cbr: { [bad.cbr]: 'wrong-date' } })

  const store = await createEmbeddedStore({ dir, quote: 'USD' })
  const snapshots: Snapshot[] = []
  store.subscribe((s) => { snapshots.push(s) })
  const app = await service(t, upstream, store)
  const first = await until(() => snapshots[0], { what: 'the first snapshot', timeoutMs: 30_000 })
  for (const base of FLOATING) {
    const rate = first.rates.find((r) => r.base === base)
    t.ok(rate?.change !== null && rate?.change !== undefined, `${base}: the first snapshot (seq ${first.seq}) carries a change`)
    t.ok((rate?.change?.prevDate ?? '') < (rate?.date ?? ''), `${base}: against an earlier fixing (${rate?.change?.prevDate ?? '-'})`)
  }
  await app.ingest.backfill.idle()

  const history = (base: string): Map<string, { inverse: number, basis: string, sources: string[] }> =>
    new Map(app.store.history(base).map((f) => [f.date, f]))
  const kzt = history('KZT')
  for (const d of kztDays) {
    const f = kzt.get(d)
    if (d === bad.nbk) {
      t.match(f, { basis: 'consensus' }, `KZT ${d}: NBK's archive answered HTML, the others made the fixing`)
      t.notOk(f?.sources.includes('nbk'))
      continue
    }
    t.equal(f?.basis, 'official', `KZT ${d} official`)
    t.ok(f !== undefined && Math.abs(f.inverse / archiveRate('KZT', d, SHIFT) - 1) < 1e-4, `KZT ${d} is NBK's value`)
    if (cbrDays.includes(d)) t.equal(f?.sources.includes('cbr'), d !== bad.cbr, d === bad.cbr ? `KZT ${d}: CBR answered another day's set, so it has no say` : `KZT ${d}: CBR voted`)
  }
  t.same([...kzt.keys()].filter((d) => inner().includes(d) && !kztDays.includes(d)), [], 'no KZT fixing on a day NBK did not publish')
  const uzs = history('UZS')
  for (const d of publishedBy('cbu')) t.equal(uzs.get(d)?.basis, d === bad.cbu ? 'consensus' : 'official', `UZS ${d}`)
  const tjs = history('TJS')
  for (const d of inner()) t.equal(tjs.get(d)?.basis, 'official', `TJS ${d}: NBT publishes every day`)
  const kgs = history('KGS')
  for (const d of publishedBy('nbkr')) {
    const f = kgs.get(d)
    t.ok(f?.basis === 'official' && f.sources.includes('nbkr') && Math.abs(f.inverse / archiveRate('KGS', d, SHIFT) - 1) < 1e-5, `KGS ${d}: NBKR's own fixing, from its history page`)
  }
  const nbkrPages = upstream.requests().filter((r) => r.id === 'nbkr' && r.path.startsWith('/index1.jsp'))
  t.equal(nbkrPages.length, 1, 'the whole window from one request of NBKR\'s history page')

  const past = pastRequests(upstream)
  for (const id of ARCHIVES) {
    const mine = past.filter((r) => r.id === id).sort((a, b) => a.at - b.at)
    t.ok(mine.length >= 5, `${id}: ${mine.length} archive requests`)
    const gaps = mine.slice(1).map((r, i) => r.at - (mine[i] as { at: number }).at)
    t.ok(gaps.every((g) => g >= PACE_MS - 2), `${id}: requests at least ${PACE_MS} ms apart (closest ${Math.min(...gaps)} ms)`)
    t.equal(new Set(mine.map((r) => r.date)).size, mine.length, `${id}: no day asked twice`)
  }
  const metrics = (await app.inject('/metrics')).body
  const okNbk = Number(/^fx_archive_requests_total\{source="nbk",outcome="ok"\} (\d+)$/m.exec(metrics)?.[1])
  t.ok(okNbk >= past.filter((r) => r.id === 'nbk').length - 1, `the metric counts the archive requests (${okNbk})`)
  t.match(metrics, /fx_archive_requests_total\{source="nbk",outcome="RATES_SOURCE_[A-Z_]+"\} 1$/m, 'and the failed one by its code')
  await app.close()

  // the same directory again: the progress is in the state file
  const before = past.length
  const again = await service(t, upstream, await createEmbeddedStore({ dir, quote: 'USD' }))
  await again.ingest.backfill.idle()
  const asked = pastRequests(upstream).slice(before)
  t.same(asked.map((r) => `${r.id} ${r.date}`).sort(), [`cbr ${bad.cbr}`, `cbu ${bad.cbu}`, `nbk ${bad.nbk}`].sort(),
    'a restart asks only the days that failed')
  t.equal(again.store.history('KZT').find((f) => f.date === bad.nbk)?.basis, 'consensus', 'NBK still answers HTML for that day')
})

t.test('with Redis the leader alone backfills, once for the cluster, and every instance serves the history', async (t) => {
  const redis = await startRedis(t)
  const upstream = await archiveServer(t)
  const { a, b } = await pair(t, redis.url)
  const leader = await service(t, upstream, a, { FX_HISTORY_DAYS: '12' })
  const follower = await service(t, upstream, b, { FX_HISTORY_DAYS: '12' })
  await until(() => leader.store.snapshot(), { what: 'a snapshot', timeoutMs: 30_000 })
  await leader.ingest.backfill.idle()
  const past = pastRequests(upstream)
  const keys = past.map((r) => `${r.id} ${r.date}`)
  t.ok(past.length > 0)
  t.equal(new Set(keys).size, keys.length, 'each archive day asked once in the whole cluster')
  await until(() => JSON.stringify(follower.store.history('KZT')) === JSON.stringify(leader.store.history('KZT')), { what: 'the follower\'s history' })
  const res = await follower.inject('/v1/history/KZT?days=12')
  t.equal(res.statusCode, 200)
  t.ok(res.json().fixings.length >= 6, 'the follower serves the backfilled fixings')
})

t.test('a week of downtime is filled in on the next start, and only that week is asked', async (t) => {
  const WEEK_MS = 7 * 86_400_000
  const dir = mkdtempSync(join(tmpdir(), 'fx-backfill-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const weekAgo = (): Date => new Date(Date.now() - WEEK_MS)
  const then = await startReplay({ fixturesDir: FIXTURES, day: '2025-11-26', shiftDays: SHIFT, clock: () => weekAgo().getTime() })
  const env = { ...sourceEnv(then), FX_HISTORY_DAYS: String(DAYS), FX_HISTORY_PACE_MS: String(PACE_MS), FX_POLL_INTERVAL_MS: '60000' }
  const first = await build(t, { env, store: await createEmbeddedStore({ dir, quote: 'USD' }), sources: createSources(testConfig(env)), now: weekAgo })
  await first.ingest.backfill.idle()
  await first.close()
  await then.close()

  const upstream = await archiveServer(t)
  const now = await service(t, upstream, await createEmbeddedStore({ dir, quote: 'USD' }))
  await now.ingest.backfill.idle()
  const asked = pastRequests(upstream)
  t.ok(asked.length > 0, `${asked.length} archive requests`)
  const lastWeek = addDays(TODAY, -9)
  t.same(asked.filter((r) => r.date < lastWeek), [], 'none for the days stored before the downtime')
  const kzt = new Set(now.store.history('KZT').map((f) => f.date))
  t.same(publishedBy('nbk').filter((d) => !kzt.has(d)), [], 'every NBK day of the window is in the history, the week included')
})
