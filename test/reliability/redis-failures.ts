import { logged, publishedSeqs, entries } from '../support/cluster.js'
import { LEAK } from './check.js'
import { openWs } from './clients.js'
import type { Client } from './clients.js'
import { startRedisServer } from './redis-server.js'
import type { Redis } from './redis-server.js'
import { details, progress, record, summarise } from './report.js'
import type { Row } from './report.js'
import { alive, getJson, launch, rates, ready } from './service.js'
import type { ServiceProcess } from './service.js'
import { createScope, ms, plusDays, tick, today, waitFor } from './scope.js'
import { startUpstream } from './upstream.js'
import type { Upstream } from './upstream.js'

const LOCK_MS = 1500
const RENEW_MS = 300
const INTERVAL_MS = 300
const TIMEOUT_MS = 1000
/** A dead leader's lock expires within LOCK_MS of its last renewal; a follower tries every RENEW_MS. */
const TAKEOVER_MS = LOCK_MS + RENEW_MS + 2000
/** Readiness must notice a Redis that is gone or does not answer within about one lock lifetime. */
const DOWN_MS = LOCK_MS + 4000
/** Reconnection uses capped backoff. */
const BACK_MS = 20_000
/** A day switch upstream is polled, reconciled and published on every instance. */
const PUBLISH_MS = 3 * (2 * TIMEOUT_MS + INTERVAL_MS) + 3000

interface Cluster { nodes: ServiceProcess[], clients: Map<ServiceProcess, Client>, up: Upstream, redis: Redis }

const living = (c: Cluster): ServiceProcess[] => c.nodes.filter(alive)

/** Every living instance serves the same snapshot of the upstream's current day, newer than `after`. */
async function agreed (c: Cluster, after: number, boundMs: number): Promise<number | undefined> {
  return await waitFor(async () => {
    const replies = await Promise.all(living(c).map(async (n) => (await rates(n)).body))
    const seq = replies[0]?.seq
    return seq !== undefined && seq > after && replies.every((s) => s?.seq === seq && s.rates.length === 5 && s.rates.every((r) => r.date === c.up.date())) && seq
  }, boundMs, 100)
}

/** The instances whose last leadership log line says they lead. */
const leaders = (nodes: ServiceProcess[]): ServiceProcess[] => nodes.filter((n) => {
  const last = entries(n).filter((e) => e.msg === 'leadership acquired' || e.msg === 'leadership lost').at(-1)
  return alive(n) && last?.msg === 'leadership acquired'
})

/**
 * What every living instance says while Redis is out: /readyz turns 503 with a short reason that names
 * nothing internal, /healthz and the last snapshot keep being served. The outage lasts a lock lifetime
 * past that, long enough for reconnection attempts to fail and for leadership to lapse.
 */
async function notReady (c: Cluster, problems: string[], what: string): Promise<number | undefined> {
  const t0 = Date.now()
  const down = await waitFor(async () => (await Promise.all(living(c).map(async (n) => (await ready(n)).status))).every((s) => s === 503), DOWN_MS, 100)
  if (down === undefined) problems.push(`/readyz still 200 on some instance ${ms(DOWN_MS)} after ${what}`)
  const downMs = Date.now() - t0
  const seqs = new Set<number>()
  const until = Date.now() + LOCK_MS + 1000
  while (Date.now() < until) {
    for (const n of living(c)) {
      const r = await ready(n)
      const reasons = r.body?.reasons ?? []
      if (r.status === 503 && reasons.length === 0) problems.push('not ready without a reason')
      for (const reason of reasons) if (LEAK.test(reason)) problems.push(`/readyz leaks internals: "${reason}"`)
      if ((await getJson(`${n.url}/healthz`)).status !== 200) problems.push('/healthz failed during the outage')
      const served = await rates(n)
      if (served.status !== 200) problems.push('/v1/rates stopped serving the last snapshot')
      else if (served.body !== undefined) seqs.add(served.body.seq)
    }
    await tick(100)
  }
  if (seqs.size > 1) problems.push(`seq moved during the outage (${[...seqs].join(', ')})`)
  return down === undefined ? undefined : downMs
}

/** Back to ready, then a day switch upstream reaches every instance with a newer seq. */
async function recovered (c: Cluster, problems: string[], seqBefore: number): Promise<string> {
  const t0 = Date.now()
  const back = await waitFor(async () => (await Promise.all(living(c).map(async (n) => (await ready(n)).status))).every((s) => s === 200), BACK_MS, 200)
  if (back === undefined) problems.push(`not ready again within ${ms(BACK_MS)}`)
  const readyMs = Date.now() - t0
  c.up.advance()
  const seq = await agreed(c, seqBefore, PUBLISH_MS + TAKEOVER_MS)
  if (seq === undefined) problems.push(`the next day was not published on every instance within ${ms(PUBLISH_MS + TAKEOVER_MS)}`)
  for (const n of living(c)) {
    const client = c.clients.get(n)
    if (client === undefined) continue
    if (client.backwards > 0) problems.push('a WebSocket client received an older seq after a newer one')
    if (client.ended !== undefined) problems.push(`a WebSocket client was disconnected (${client.ended})`)
    else if (seq !== undefined && (await waitFor(() => client.seq === seq, 3000)) === undefined) problems.push(`a WebSocket client ended at seq ${client.seq}, not ${seq}`)
  }
  const all = c.nodes.flatMap((n) => publishedSeqs(n))
  if (new Set(all).size !== all.length) problems.push('a seq was published twice')
  return `ready again in ${ms(readyMs)}, next day published as seq ${seq ?? '—'}`
}

async function step (name: string, injected: string, run: (problems: string[]) => Promise<string>): Promise<Row> {
  const started = Date.now()
  const problems: string[] = []
  let did = ''
  try {
    did = await run(problems)
  } catch (err) {
    problems.push(`runner: ${(err as Error).message}`)
  }
  details(problems)
  progress(`${problems.length === 0 ? 'pass' : 'FAIL'} ${name}${problems.length > 0 ? `: ${summarise(problems, 2)}` : ''}`)
  return record({ scenario: name, injected, often: 'once', did, wrong: summarise(problems), ok: problems.length === 0, ms: Date.now() - started })
}

/** Scenario 4b: several instances on one real redis-server; the leader dies, Redis restarts, Redis hangs. */
export async function redisFailures ({ quick }: { quick: boolean }): Promise<Row[]> {
  const scope = createScope()
  const rows: Row[] = []
  const count = quick ? 2 : 3
  try {
    const redis = await startRedisServer(scope)
    const up = await startUpstream(scope, { date: plusDays(today(), -30), recorded: '2025-11-25', dripMs: 250, maxBytes: 2_000_000 })
    const env = {
      ...up.env,
      REDIS_URL: redis.url,
      FX_LEADER_LOCK_MS: String(LOCK_MS),
      FX_LEADER_RENEW_MS: String(RENEW_MS),
      FX_POLL_INTERVAL_MS: String(INTERVAL_MS),
      FX_HTTP_TIMEOUT_MS: String(TIMEOUT_MS),
      FX_RATE_LIMIT_PER_MIN: '100000',
      // the replayed days lie in the past: keep them current so readiness depends on the engine alone
      FX_STALE_AFTER_MS: String(3650 * 86_400_000)
    }
    const nodes = await Promise.all(Array.from({ length: count }, async () => await launch(scope, env)))
    const c: Cluster = { nodes, clients: new Map(), up, redis }
    if (await agreed(c, 0, PUBLISH_MS + TAKEOVER_MS) === undefined) throw new Error('the instances never agreed on a first snapshot')
    for (const n of nodes) {
      const client = openWs(n.url)
      scope.teardown(() => client.close())
      c.clients.set(n, client)
      await client.ready
    }

    rows.push(await step(`Redis: leader kill -9 (${count} instances)`, 'SIGKILL of the instance holding the leader lock', async (problems) => {
      const before = (await rates(nodes[0] as ServiceProcess)).body?.seq ?? 0
      const lead = leaders(nodes)
      if (lead.length !== 1) problems.push(`${lead.length} instances lead`)
      const victim = lead[0] ?? nodes[0] as ServiceProcess
      const t0 = Date.now()
      victim.child.kill('SIGKILL')
      await victim.exited
      const next = await waitFor(() => living(c).find((n) => logged(n, 'leadership acquired', t0).length > 0), TAKEOVER_MS)
      if (next === undefined) problems.push(`no instance took the lead within ${ms(TAKEOVER_MS)}`)
      const takeover = next === undefined ? undefined : (logged(next, 'leadership acquired', t0)[0]?.time ?? t0) - t0
      return `a survivor led after ${takeover === undefined ? '—' : ms(takeover)}; ${await recovered(c, problems, before)}`
    }))

    rows.push(await step('Redis: restart', 'redis-server SIGKILLed (data lost), started again', async (problems) => {
      const before = (await rates(living(c)[0] as ServiceProcess)).body?.seq ?? 0
      await redis.kill()
      const down = await notReady(c, problems, 'Redis died')
      await redis.start()
      return `not ready after ${down === undefined ? '—' : ms(down)} while serving the last snapshot; ${await recovered(c, problems, before)}`
    }))

    rows.push(await step('Redis: SIGSTOP', 'redis-server paused (connections open, no answers), then SIGCONT', async (problems) => {
      const before = (await rates(living(c)[0] as ServiceProcess)).body?.seq ?? 0
      redis.pause()
      const down = await notReady(c, problems, 'Redis stopped answering')
      redis.resume()
      return `not ready after ${down === undefined ? '—' : ms(down)} while serving the last snapshot; ${await recovered(c, problems, before)}`
    }))
  } catch (err) {
    rows.push(record({ scenario: 'Redis failures', injected: '—', often: '—', did: 'could not run', wrong: `runner: ${(err as Error).message}`, ok: false, ms: 0 }))
  } finally {
    await scope.close()
  }
  return rows
}
