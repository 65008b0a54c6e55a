import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { getJson, logged, startCluster } from '../support/cluster.js'
import { startService } from '../support/process.js'
import type { ServiceProcess } from '../support/process.js'
import { startRedis } from '../support/redis.js'
import { replay, sourceEnv } from '../support/replay.js'
import { until } from '../support/until.js'
import type { Snapshot } from '../../src/domain/rate.js'

// The built service (`node dist/server.js`) against a disk that fails and a Redis that hangs.
interface Ready { status: string, reasons: string[], seq: number | null }
const readyz = async (svc: ServiceProcess): Promise<{ status: number, body: Ready }> => await getJson<Ready>(`${svc.url}/readyz`)
const rates = async (svc: ServiceProcess): Promise<Snapshot> => (await getJson<Snapshot>(`${svc.url}/v1/rates`)).body
const onDay = (day: string) => (s: Snapshot): boolean => s.rates?.length === 5 && s.rates.every((r) => r.date === day)
// the recorded fixings are from November 2025: keep them current so that readiness depends on the engine only
const FRESH = { FX_STALE_AFTER_MS: String(100 * 365 * 86_400_000), FX_POLL_INTERVAL_MS: '200' }

/** Replaces the state file by a directory; the service may write the file again in between, so until it sticks. */
async function blockWith (file: string): Promise<void> {
  await until(async () => {
    await rm(file, { force: true })
    return await mkdir(file).then(() => true, () => false)
  }, { timeoutMs: 5000, what: 'a directory in place of the state file' })
}

t.test('a state file that cannot be written: not ready without the path, then the file catches up by itself', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fx-disk-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'state.json')
  const upstream = await replay(t, '2025-11-25')
  const svc = await startService(t, { ...sourceEnv(upstream), ...FRESH, FX_STATE_DIR: dir })
  await until(async () => (await readyz(svc)).status === 200 && onDay('2025-11-25')(await rates(svc)), { timeoutMs: 15_000, what: 'day one, ready' })

  // a directory where the state file goes: every write fails with EISDIR
  await blockWith(file)
  upstream.setDay('2025-11-26')
  const failing = await until(async () => {
    const r = await readyz(svc)
    return r.status === 503 && r.body.reasons.includes('state not persisted') && r.body
  }, { timeoutMs: 15_000, what: 'not ready: state not persisted' })
  t.notOk(failing.reasons.some((r) => r.includes(dir) || r.includes('EISDIR')), `public reasons only: ${failing.reasons.join('; ')}`)
  await until(async () => onDay('2025-11-26')(await rates(svc)), { timeoutMs: 15_000, what: 'day two served from memory' })

  await rm(file, { recursive: true })
  // the writer retries with a backoff of at most 30 s (the embedded engine's retryMaxMs)
  await until(async () => (await readyz(svc)).status === 200, { timeoutMs: 35_000, what: 'ready again without a restart' })
  const served = await rates(svc)
  const stored = JSON.parse(await readFile(file, 'utf8')) as { snapshot: Snapshot }
  t.equal(stored.snapshot.seq, served.seq, 'the file holds the seq that is served')
  t.ok(onDay('2025-11-26')(stored.snapshot), 'and day two')
  await until(() => logged(svc, 'state write recovered').length > 0, { timeoutMs: 5000, what: 'the recovery to be logged' })
  t.equal(logged(svc, 'state write failed; retrying').length, 1, 'the failure is logged once, with its detail')
  t.match(logged(svc, 'state write failed; retrying')[0], { file, err: { code: 'EISDIR' } })
})

t.test('a hung Redis (SIGSTOP): every instance is not ready within the deadline, and all recover after SIGCONT', async (t) => {
  const LOCK_MS = 1500
  const RENEW_MS = 300
  // one PING period plus the command timeout (max(1000, renew)), plus a period for the HTTP probe and scheduling
  const DEADLINE_MS = RENEW_MS + Math.max(1000, LOCK_MS - RENEW_MS)
  const redis = await startRedis(t)
  const upstream = await replay(t, '2025-11-25')
  const env = { ...sourceEnv(upstream), ...FRESH, REDIS_URL: redis.url, FX_LEADER_LOCK_MS: String(LOCK_MS), FX_LEADER_RENEW_MS: String(RENEW_MS) }
  const nodes = await startCluster(t, 2, env)
  for (const node of nodes) {
    await until(async () => (await readyz(node)).status === 200 && onDay('2025-11-25')(await rates(node)), { timeoutMs: 20_000, what: 'day one, ready' })
  }

  const pausedAt = Date.now()
  redis.pause()
  const noticed = await Promise.all(nodes.map(async (node, i) => {
    await until(async () => {
      const r = await readyz(node)
      return r.status === 503 && r.body.reasons.includes('redis not answering')
    }, { timeoutMs: DEADLINE_MS * 5, what: `instance ${i} not ready: redis not answering` })
    return Date.now() - pausedAt
  }))
  for (const [i, ms] of noticed.entries()) {
    t.ok(ms <= DEADLINE_MS + 2 * RENEW_MS, `instance ${i} not ready after ${ms} ms (deadline ${DEADLINE_MS} ms)`)
  }
  await until(() => nodes.some((n) => logged(n, 'lost leadership; polling stopped', pausedAt).length > 0), { timeoutMs: LOCK_MS * 2, what: 'the leader to stop polling' })
  redis.resume()
  for (const [i, node] of nodes.entries()) {
    await until(async () => (await readyz(node)).status === 200, { timeoutMs: LOCK_MS * 10, what: `instance ${i} ready again` })
  }
  for (const [i, node] of nodes.entries()) {
    // a log line reaches this process through a pipe, maybe after the HTTP answer that followed it
    await until(() => logged(node, 'redis answering again; resynchronising', pausedAt).length > 0, { timeoutMs: 5000, what: `instance ${i} to log the recovery` })
    t.equal(logged(node, 'redis not answering', pausedAt).length, 1, `instance ${i} logged the hang once, not once per probe`)
  }
  upstream.setDay('2025-11-26')
  for (const node of nodes) await until(async () => onDay('2025-11-26')(await rates(node)), { timeoutMs: 20_000, what: 'day two on every instance' })
})

t.test('SIGTERM while the state file cannot be written still drains and exits 0', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fx-disk-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const upstream = await replay(t, '2025-11-25')
  const svc = await startService(t, { ...sourceEnv(upstream), ...FRESH, FX_STATE_DIR: dir })
  await until(async () => onDay('2025-11-25')(await rates(svc)), { timeoutMs: 15_000, what: 'day one' })
  await blockWith(join(dir, 'state.json'))
  upstream.setDay('2025-11-26')
  await until(async () => (await readyz(svc)).body.reasons.includes('state not persisted'), { timeoutMs: 15_000, what: 'the failure' })
  svc.child.kill('SIGTERM')
  t.equal(await svc.exited, 0, 'SIGTERM still exits 0: a pending retry does not hold the process')
})
