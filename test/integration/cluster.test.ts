import t from 'tap'
import type { Test } from 'tap'
import { connect } from '../hub/clients.js'
import type { Conn } from '../hub/clients.js'
import { entries, getJson, lockExpiry, logged, publishedSeqs, seqsOf, startCluster } from '../support/cluster.js'
import type { ServiceProcess } from '../support/process.js'
import type { LockExpiry } from '../support/cluster.js'
import { startRedis } from '../support/redis.js'
import type { RedisServer } from '../support/redis.js'
import { replay, sourceEnv } from '../support/replay.js'
import { until } from '../support/until.js'
import type { ReplayServer } from '../../src/demo/replay.js'
import type { Snapshot } from '../../src/domain/rate.js'

// Several real `node dist/server.js` processes on one real redis-server, fed by the replayed upstreams.
const LOCK_MS = 1500
const RENEW_MS = 300
// the engine's default Redis command timeout for these settings: max(1000, renew)
const COMMAND_TIMEOUT_MS = Math.max(1000, RENEW_MS)
// once the lock has expired, a follower's next attempt starts RENEW_MS after its previous one ended, and an attempt
// ends within the command timeout: the takeover is bounded by the election's own periods, measured from the expiry
// Redis reports, not from the kill plus slack
const TAKEOVER_AFTER_EXPIRY_MS = RENEW_MS + COMMAND_TIMEOUT_MS
// sources whose polls mark a round: they answer on both recorded days
const ROUND = ['nbk', 'cbu', 'nbt', 'nbkr']

function clusterEnv (redis: RedisServer, upstream: ReplayServer): Record<string, string> {
  return {
    ...sourceEnv(upstream),
    REDIS_URL: redis.url,
    FX_LEADER_LOCK_MS: String(LOCK_MS),
    FX_LEADER_RENEW_MS: String(RENEW_MS),
    FX_POLL_INTERVAL_MS: '200',
    // the recorded fixings are from November 2025: keep them current so that readiness depends on the engine only
    FX_STALE_AFTER_MS: String(100 * 365 * 86_400_000)
  }
}

const onDay = (day: string, change: boolean) => (s: Snapshot): boolean => s.rates.length === 5 &&
  s.rates.every((r) => r.date === day && (!change || r.change !== null))
const onDay25 = onDay('2025-11-25', false)
const onDay26 = onDay('2025-11-26', true)

/** What each instance serves: its seq and the value dates of its rates, for failure messages. */
async function served (nodes: ServiceProcess[]): Promise<Array<{ status: number, body: Snapshot }>> {
  return await Promise.all(nodes.map(async (n) => await getJson<Snapshot>(`${n.url}/v1/rates`)))
}
const summary = (replies: Array<{ status: number, body: Snapshot }>): string =>
  replies.map((r, i) => `#${i} ${r.status} seq ${r.body.seq} ${(r.body.rates ?? []).map((x) => `${x.base}:${x.date}`).join(' ')}`).join(' | ')

/** The snapshot every instance serves, when they all serve one with the same seq. */
async function agreed (nodes: ServiceProcess[]): Promise<Snapshot | undefined> {
  const replies = await served(nodes)
  const seq = replies[0]?.body.seq
  if (replies.some((r) => r.status !== 200 || r.body.seq !== seq)) return undefined
  return replies[0]?.body
}

/** Waits until all instances agree on a snapshot matching `ready` that two more poll rounds do not move. */
async function settle (upstream: ReplayServer, nodes: ServiceProcess[], ready: (s: Snapshot) => boolean, what: string): Promise<Snapshot> {
  try {
    return await until(async () => {
      const first = await agreed(nodes)
      if (first === undefined || !ready(first)) return false
      const hits = upstream.hits()
      await until(() => ROUND.every((id) => (upstream.hits()[id] ?? 0) >= (hits[id] ?? 0) + 2), { timeoutMs: 5000, what: 'two more poll rounds' })
      const second = await agreed(nodes)
      return second?.seq === first.seq && second
    }, { timeoutMs: 20_000, what })
  } catch (err) {
    const published = nodes.map((n, i) => `#${i} published ${publishedSeqs(n).join(',')}`).join(' | ')
    throw new Error(`${(err as Error).message}; serving: ${summary(await served(nodes))}; ${published}`)
  }
}

/** The instances that logged `polling upstreams`. */
const pollers = (nodes: ServiceProcess[], since = 0): ServiceProcess[] => nodes.filter((n) => logged(n, 'polling upstreams', since).length > 0)

/** Every seq any instance logged as published, sorted; the test fails if one was published twice. */
function allPublished (t: Test, nodes: ServiceProcess[]): number[] {
  const seqs = nodes.flatMap((n) => publishedSeqs(n)).sort((a, b) => a - b)
  t.equal(new Set(seqs).size, seqs.length, `no seq was published twice (${seqs.join(',')})`)
  return seqs
}

async function openClient (t: Test, node: ServiceProcess): Promise<Conn> {
  const conn = connect(t, `${node.url.replace(/^http/, 'ws')}/v1/ws`)
  await conn.opened
  await conn.next('snapshot')
  return conn
}

/** A client's snapshot and updates: strictly increasing, and with `contiguous` exactly the seqs published after its snapshot. */
function checkStream (t: Test, name: string, conn: Conn, published: number[], final: number, contiguous = true): void {
  const seqs = seqsOf(conn.received)
  t.equal(conn.received[0]?.type, 'snapshot', `${name}: starts with a snapshot`)
  t.notOk(conn.received.slice(1).some((m) => m.type === 'snapshot' || m.type === 'error'), `${name}: then only updates and heartbeats`)
  t.ok(seqs.length >= 2, `${name}: received updates (${seqs.join(',')})`)
  t.ok(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number)), `${name}: seqs strictly increase (${seqs.join(',')})`)
  if (contiguous) {
    t.ok(seqs.every((s, i) => i === 0 || s === (seqs[i - 1] as number) + 1), `${name}: each update is the previous seq + 1`)
    t.same(seqs.slice(1), published.filter((s) => s > (seqs[0] as number)), `${name}: exactly the published seqs, none lost or duplicated`)
  }
  t.equal(seqs.at(-1), final, `${name}: ends at the seq /v1/rates serves`)
  t.equal(conn.ws.readyState, conn.ws.OPEN, `${name}: still connected`)
}

/**
 * Reads, right after `leader` stopped, when its lock expires, and checks the order of events: the lock outlives the
 * leader by at most LOCK_MS, nobody acquires it before it expires, and a follower takes it within the election's periods.
 */
/** How late a command written before a SIGKILL or SIGSTOP may still reach Redis on a loaded machine. */
const IN_FLIGHT_MS = 50

async function heldLock (t: Test, redis: RedisServer, leader: ServiceProcess, stoppedAt: number): Promise<LockExpiry> {
  const token = String(logged(leader, 'leadership acquired').at(-1)?.token)
  const lock = await lockExpiry(redis.url, token)
  if (lock === undefined) throw new Error('the stopped leader no longer held the lock when it was read')
  // a renewal the leader wrote just before the signal is applied by Redis just after it: the lifetime runs from then
  t.ok(lock.earliest <= stoppedAt + LOCK_MS + IN_FLIGHT_MS,
    `the lock outlives the stopped leader by at most ${LOCK_MS} ms, a renewal in flight aside (${lock.earliest - stoppedAt} ms)`)
  return lock
}

function checkAcquired (t: Test, lock: LockExpiry, acquiredAt: number, what: string): void {
  t.ok(acquiredAt >= lock.earliest, `${what} ${acquiredAt - lock.earliest} ms after the lock expired, not before`)
  t.ok(acquiredAt <= lock.latest + TAKEOVER_AFTER_EXPIRY_MS,
    `${what} ${acquiredAt - lock.latest} ms after the lock expired, within renew + command timeout (${TAKEOVER_AFTER_EXPIRY_MS} ms)`)
}

/** The instances whose latest leadership log line says they lead. */
const leaders = (nodes: ServiceProcess[]): ServiceProcess[] => nodes.filter((n) => {
  const last = entries(n).filter((e) => e.msg === 'leadership acquired' || e.msg === 'leadership lost').at(-1)
  return last?.msg === 'leadership acquired'
})

t.test('three instances: exactly one polls, all serve the same snapshot', async (t) => {
  const redis = await startRedis(t)
  const upstream = await replay(t, '2025-11-25')
  const nodes = await startCluster(t, 3, clusterEnv(redis, upstream))
  const snapshot = await settle(upstream, nodes, onDay25, 'the 2025-11-25 snapshot on every instance')

  const polling = pollers(nodes)
  t.equal(polling.length, 1, 'exactly one instance started polling')
  const leader = polling[0] as ServiceProcess
  for (const [i, node] of nodes.entries()) {
    const polls = logged(node, 'source poll succeeded').length + logged(node, 'source poll failed').length
    const acquired = logged(node, 'leadership acquired').length
    if (node === leader) {
      t.ok(logged(node, 'source poll succeeded').length >= 2 * ROUND.length, `instance ${i} (leader) polled every source`)
      t.equal(acquired, 1, `instance ${i} (leader) acquired leadership once`)
    } else {
      t.equal(polls, 0, `instance ${i} never polled`)
      t.equal(acquired, 0, `instance ${i} never led`)
      t.equal(publishedSeqs(node).length, 0, `instance ${i} never published`)
    }
  }
  t.equal(publishedSeqs(leader).at(-1), snapshot.seq, 'the served seq is the last one the leader published')
  allPublished(t, nodes)

  const bodies = await Promise.all(nodes.map(async (n) => await getJson<Snapshot>(`${n.url}/v1/rates`)))
  for (const [i, r] of bodies.entries()) t.same(r.body, snapshot, `instance ${i} serves the same snapshot`)
  for (const [i, node] of nodes.entries()) {
    const ready = await getJson<{ sources: unknown[] }>(`${node.url}/readyz`)
    t.equal(ready.status, 200, `instance ${i} is ready`)
    t.equal(ready.body.sources.length > 0, node === leader, `instance ${i} reports poll health only if it polls`)
  }
})

t.test('kill -9 of the leader: a survivor takes over within the lock lifetime, clients miss nothing', async (t) => {
  const redis = await startRedis(t)
  const upstream = await replay(t, '2025-11-25')
  const nodes = await startCluster(t, 3, clusterEnv(redis, upstream))
  const day1 = await settle(upstream, nodes, onDay25, 'the 2025-11-25 snapshot on every instance')
  const leader = pollers(nodes)[0] as ServiceProcess
  const survivors = nodes.filter((n) => n !== leader)
  const clients = await Promise.all(survivors.map(async (n) => await openClient(t, n)))
  for (const c of clients) t.equal(seqsOf(c.received)[0], day1.seq, 'a client starts at the served seq')

  const killedAt = Date.now()
  leader.child.kill('SIGKILL')
  t.equal(await leader.exited, 'SIGKILL')
  const lock = await heldLock(t, redis, leader, killedAt)
  const acquired = await until(() => survivors.flatMap((n) => logged(n, 'leadership acquired', killedAt).map((e) => ({ n, e }))).at(0),
    { timeoutMs: LOCK_MS * 4, what: 'a survivor to acquire leadership' })
  const next = acquired.n
  const polling = await until(() => logged(next, 'polling upstreams', killedAt).at(0), { timeoutMs: LOCK_MS, what: 'the new leader to poll' })
  t.comment(`takeover after kill -9: lock expired ${lock.earliest - killedAt} ms, leadership acquired ${acquired.e.time - killedAt} ms, polling upstreams ${polling.time - killedAt} ms`)
  checkAcquired(t, lock, acquired.e.time, 'leadership acquired')
  t.ok(polling.time >= acquired.e.time, 'polling starts once leadership is acquired')
  checkAcquired(t, lock, polling.time, 'polling resumed')

  upstream.setDay('2025-11-26')
  const day2 = await settle(upstream, survivors, onDay26, 'the 2025-11-26 snapshot on the survivors')
  const published = allPublished(t, nodes)
  const fresh = publishedSeqs(next)
  t.ok(fresh.length >= 1, `the new leader published (${fresh.join(',')})`)
  t.equal(fresh[0], day1.seq + 1, 'the new leader continues from the stored seq')
  t.equal(fresh.at(-1), day2.seq)
  for (const c of clients) await until(() => seqsOf(c.received).at(-1) === day2.seq, { timeoutMs: 5000, what: 'clients to reach the last seq' })
  for (const [i, c] of clients.entries()) checkStream(t, `client of survivor ${i}`, c, published, day2.seq)
  t.same(pollers(survivors).map((n) => nodes.indexOf(n)), [nodes.indexOf(next)], 'only the new leader polls')
  t.equal(survivors.reduce((n, s) => n + logged(s, 'leadership acquired').length, 0), 1, 'leadership was acquired once')
})

t.test('redis down and back: not ready but serving, then recovered and converged', async (t) => {
  const redis = await startRedis(t)
  const upstream = await replay(t, '2025-11-25')
  const nodes = await startCluster(t, 3, clusterEnv(redis, upstream))
  const before = await settle(upstream, nodes, onDay25, 'the 2025-11-25 snapshot on every instance')
  for (const [i, node] of nodes.entries()) t.equal((await getJson(`${node.url}/readyz`)).status, 200, `instance ${i} ready`)
  const leader = pollers(nodes)[0] as ServiceProcess
  const clients = await Promise.all(nodes.map(async (n) => await openClient(t, n)))

  const downAt = Date.now()
  await redis.stop({ keepData: true })
  // nothing can be published while Redis is away, even though the upstreams move on
  upstream.setDay('2025-11-26')
  for (const [i, node] of nodes.entries()) {
    const ready = await until(async () => {
      const r = await getJson<{ reasons: string[] }>(`${node.url}/readyz`)
      return r.status === 503 && r.body.reasons.some((x) => /redis/i.test(x)) && r.body
    }, { timeoutMs: 5000, what: `instance ${i} to report redis unreachable` })
    t.ok(ready.reasons.some((x) => /redis/i.test(x)), `instance ${i} not ready: ${ready.reasons.join('; ')}`)
  }
  await until(() => logged(leader, 'lost leadership; polling stopped', downAt).length > 0, { timeoutMs: 3000, what: 'the leader to stop polling' })
  t.ok(logged(leader, 'leadership lost', downAt).length > 0, 'the leader gave up leadership')
  // down past the lock lifetime, several poll intervals
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, downAt + LOCK_MS + RENEW_MS - Date.now())))
  for (const [i, node] of nodes.entries()) {
    const r = await getJson<Snapshot>(`${node.url}/v1/rates`)
    t.equal(r.status, 200, `instance ${i} still serves /v1/rates`)
    t.same(r.body, before, `instance ${i} serves its last snapshot`)
  }

  const upAt = Date.now()
  await redis.start()
  for (const [i, node] of nodes.entries()) {
    await until(async () => (await getJson(`${node.url}/readyz`)).status === 200, { timeoutMs: 10_000, what: `instance ${i} ready again` })
  }
  t.comment(`all instances ready ${Date.now() - upAt} ms after redis-server answered again (down ${upAt - downAt} ms)`)
  const after = await settle(upstream, nodes, onDay26, 'the 2025-11-26 snapshot on every instance')
  t.ok(after.seq > before.seq, `seq continues from the saved state (${before.seq} -> ${after.seq})`)
  const published = allPublished(t, nodes)
  const fresh = nodes.flatMap((n) => publishedSeqs(n, upAt)).sort((a, b) => a - b)
  t.equal(fresh[0], before.seq + 1, `the first publish after the outage continues from the saved seq (${fresh.join(',')})`)
  const bodies = await Promise.all(nodes.map(async (n) => await getJson<Snapshot>(`${n.url}/v1/rates`)))
  for (const [i, r] of bodies.entries()) t.same(r.body, after, `instance ${i} serves the same snapshot`)
  t.equal(leaders(nodes).length, 1, 'one leader again')
  t.equal(pollers(nodes, upAt).length, 1, 'one instance polls again')
  for (const c of clients) await until(() => seqsOf(c.received).at(-1) === after.seq, { timeoutMs: 5000, what: 'clients to reach the last seq' })
  // a follower that was resynchronising when an update went out catches up by a re-read: strictly increasing, maybe not contiguous
  for (const [i, c] of clients.entries()) checkStream(t, `client of instance ${i}`, c, published, after.seq, false)
})

t.test('a paused leader cannot publish after it resumes', async (t) => {
  const redis = await startRedis(t)
  const upstream = await replay(t, '2025-11-25')
  const nodes = await startCluster(t, 3, clusterEnv(redis, upstream))
  const day1 = await settle(upstream, nodes, onDay25, 'the 2025-11-25 snapshot on every instance')
  const paused = pollers(nodes)[0] as ServiceProcess
  const others = nodes.filter((n) => n !== paused)
  const clients = await Promise.all(others.map(async (n) => await openClient(t, n)))

  const stoppedAt = Date.now()
  paused.child.kill('SIGSTOP')
  t.teardown(() => { paused.child.kill('SIGCONT') })
  const lock = await heldLock(t, redis, paused, stoppedAt)
  const acquired = await until(() => others.flatMap((n) => logged(n, 'leadership acquired', stoppedAt).map((e) => ({ n, e }))).at(0),
    { timeoutMs: LOCK_MS * 4, what: 'another instance to acquire leadership' })
  const next = acquired.n
  t.comment(`takeover from a paused leader: lock expired ${lock.earliest - stoppedAt} ms, leadership acquired ${acquired.e.time - stoppedAt} ms`)
  checkAcquired(t, lock, acquired.e.time, 'leadership acquired')
  upstream.setDay('2025-11-26')
  const day2 = await settle(upstream, others, onDay26, 'the 2025-11-26 snapshot on the other instances')
  const pausedFor = Date.now() - stoppedAt
  t.ok(pausedFor > LOCK_MS, `paused for ${pausedFor} ms, past the ${LOCK_MS} ms lock`)

  const resumedAt = Date.now()
  paused.child.kill('SIGCONT')
  // the resumed process sees its lock expired (or its fenced write refused) before anything else
  const lost = await until(() => entries(paused).find((e) => e.time >= stoppedAt &&
    (e.msg === 'leadership lost' || JSON.stringify(e).includes('RATES_NOT_LEADER'))), { timeoutMs: 5000, what: 'the old leader to notice it lost leadership' })
  t.comment(`old leader after SIGCONT: "${lost.msg}" ${lost.time - resumedAt} ms after the resume (${String(lost.reason ?? '')})`)
  await until(() => logged(paused, 'lost leadership; polling stopped', stoppedAt).length > 0, { timeoutMs: 3000, what: 'the old leader to stop polling' })
  const converged = await settle(upstream, nodes, onDay26, 'every instance, the resumed one included, on one snapshot')
  t.equal(converged.seq, day2.seq, 'nothing was published after the resume')

  const late = publishedSeqs(paused, stoppedAt)
  const elsewhere = new Set(others.flatMap((n) => publishedSeqs(n)))
  t.notOk(late.some((s) => elsewhere.has(s)), `the resumed leader published no seq another instance used (${late.join(',')})`)
  t.same(late, [], 'the resumed leader published nothing at all')
  t.equal(logged(paused, 'leadership acquired', stoppedAt).length, 0, 'the resumed leader did not take the lock back')
  const published = allPublished(t, nodes)
  t.equal(publishedSeqs(next)[0], day1.seq + 1, 'the new leader continued from the stored seq')
  t.same(leaders(nodes).map((n) => nodes.indexOf(n)), [nodes.indexOf(next)], 'the new leader is the only leader')
  for (const c of clients) await until(() => seqsOf(c.received).at(-1) === converged.seq, { timeoutMs: 5000, what: 'clients to reach the last seq' })
  for (const [i, c] of clients.entries()) checkStream(t, `client of instance ${i}`, c, published, converged.seq)
})
