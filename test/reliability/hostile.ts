import { logged } from '../support/cluster.js'
import { badFrames, connectionFlood, forgedHost, halfOpen, headFlood, restFlood, slowReaders, strayUpgrades } from './attacks.js'
import type { Observed, Target } from './attacks.js'
import { Arrivals, openSse, openWs } from './clients.js'
import type { Client } from './clients.js'
import { details, progress, record, summarise } from './report.js'
import type { Row } from './report.js'
import { launch, probeHealth, processStats, rates } from './service.js'
import type { ServiceProcess } from './service.js'
import { createScope, mb, ms, plusDays, today, waitFor } from './scope.js'
import { startUpstream } from './upstream.js'

const INTERVAL_MS = 300
const HEARTBEAT_MS = 1000
const PING_MS = 2000
const SWITCH_MS = 2000
const PER_IP = 50
const REST_PER_MIN = 600
/** A publish reaches a connected client within a heartbeat period; silence never lasts two of them. */
const DELIVER_MS = HEARTBEAT_MS + 1000
const GAP_MS = 2 * HEARTBEAT_MS + 1000

/** Publish time of each seq, from the service's own log. */
export function publishTimes (svc: ServiceProcess, since: number): Map<number, number> {
  return new Map(logged(svc, 'snapshot published', since).map((e) => [Number(e.seq), e.time]))
}

/** How late each published seq reached the last of `arrivals`' clients; seqs nobody received count as lost. */
export function lateness (published: Map<number, number>, arrivals: Arrivals, clients: number): { worst: number, lost: number[] } {
  let worst = 0
  const lost: number[] = []
  for (const [seq, at] of published) {
    const a = arrivals.bySeq.get(seq)
    if (a === undefined || a.count < clients) lost.push(seq)
    else worst = Math.max(worst, a.last - at)
  }
  return { worst, lost }
}

/** Scenario 3: hostile clients, one kind after another, while well-behaved clients watch the updates. */
export async function hostileClients ({ quick }: { quick: boolean }): Promise<Row[]> {
  const scope = createScope()
  const rows: Row[] = []
  const row = (scenario: string, injected: string, o: Observed, started: number): void => {
    details(o.problems)
    progress(`${o.problems.length === 0 ? 'pass' : 'FAIL'} ${scenario}${o.problems.length > 0 ? `: ${summarise(o.problems, 2)}` : ''}`)
    rows.push(record({ scenario, injected, often: `${o.count} connections or requests`, did: o.did, wrong: summarise(o.problems), ok: o.problems.length === 0, ms: Date.now() - started }))
  }
  try {
    const up = await startUpstream(scope, { date: plusDays(today(), -60), recorded: '2025-11-25', dripMs: 250, maxBytes: 2_000_000 })
    const svc = await launch(scope, {
      ...up.env,
      FX_STATE_DIR: scope.tempDir('state'),
      FX_POLL_INTERVAL_MS: String(INTERVAL_MS),
      FX_STALE_AFTER_MS: String(3650 * 86_400_000),
      FX_RATE_LIMIT_PER_MIN: String(REST_PER_MIN),
      WS_MAX_CONNECTIONS_PER_IP: String(PER_IP),
      WS_HEARTBEAT_MS: String(HEARTBEAT_MS),
      WS_PING_MS: String(PING_MS),
      WS_MAX_BUFFERED_BYTES: '65536'
    })
    const first = await waitFor(async () => { const s = (await rates(svc)).body; return s?.rates?.length === 5 && s }, 20_000, 100)
    if (first === undefined) throw new Error('no first snapshot')
    const advancing = setInterval(() => up.advance(), SWITCH_MS)
    scope.teardown(() => clearInterval(advancing))
    const arrivals = new Arrivals()
    const good: Client[] = []
    const watchedFrom = Date.now()
    for (let i = 0; i < (quick ? 3 : 5); i++) good.push(openWs(svc.url, { localAddress: '127.0.0.2', arrivals }), openSse(svc.url, { localAddress: '127.0.0.2', arrivals }))
    for (const c of good) scope.teardown(() => c.close())
    await Promise.all(good.map(async (c) => await c.ready))
    const probe = probeHealth(svc)
    const before = await processStats(svc)
    const t: Target = { url: svc.url, port: Number(new URL(svc.url).port), perIp: PER_IP, restPerMin: REST_PER_MIN }
    const slow = slowReaders(t, '127.0.0.6', quick ? 10 : 20)

    const flood = quick ? 600 : 3000
    let started = Date.now()
    row(`hostile: ${flood} connections from one address`, `WebSocket and SSE connects from one address, ${PER_IP} allowed`, await connectionFlood(t, '127.0.0.3', flood), started)
    started = Date.now()
    row('hostile: REST flood and encoded /v1 paths', `${REST_PER_MIN + 60} GETs a minute, then /%761/rates and other spellings`, await restFlood(t, '127.0.0.4', '127.0.0.5'), started)
    started = Date.now()
    row('hostile: half-open sockets', 'unfinished request headers, silent connections, half-closed WebSockets', await halfOpen(t, '127.0.0.7', quick ? 50 : 200, async () => (await processStats(svc))?.clients ?? 0, 2 * PING_MS + 2000), started)
    started = Date.now()
    row('hostile: oversize and invalid frames', '64 KB frames (limit 4 KB); six invalid messages in a row', await badFrames(t, '127.0.0.8', quick ? 20 : 100), started)
    started = Date.now()
    row('hostile: HEAD /v1/stream flood', `${PER_IP * 3} HEAD requests held open from one address`, await headFlood(t, '127.0.0.9', PER_IP * 3), started)
    started = Date.now()
    row('hostile: upgrades on non-WebSocket routes', 'Upgrade: websocket on REST, health, metrics and page routes', await strayUpgrades(t, '127.0.0.10'), started)
    started = Date.now()
    row('hostile: forged Host header', 'Host and X-Forwarded-Host: evil.example on the demo page, API documents and REST', await forgedHost(t, '127.0.0.11'), started)

    // the well-behaved clients, throughout all of the above
    started = watchedFrom
    const slowSeen = slow.stop()
    clearInterval(advancing)
    const problems: string[] = []
    const final = await waitFor(async () => {
      const seq = (await rates(svc)).body?.seq
      return seq !== undefined && good.every((c) => c.seq === seq) && seq
    }, 5000, 100)
    if (final === undefined) problems.push(`clients did not all end at the served seq (${[...new Set(good.map((c) => c.seq))].join(', ')})`)
    for (const c of good) {
      if (c.ended !== undefined) problems.push(`a well-behaved ${c.transport} client was disconnected (${c.ended})`)
      if (c.backwards > 0) problems.push(`a ${c.transport} client got an older seq after a newer one`)
      if (c.maxGapMs > GAP_MS) problems.push(`a ${c.transport} client heard nothing for ${ms(c.maxGapMs)} (heartbeat ${ms(HEARTBEAT_MS)})`)
    }
    const { worst, lost } = lateness(publishTimes(svc, watchedFrom + 500), arrivals, good.length)
    if (worst > DELIVER_MS) problems.push(`a publish reached every client only after ${ms(worst)}`)
    if (lost.length > 0) problems.push(`published seqs not received by every client: ${lost.slice(0, 5).join(', ')}`)
    // the attackers' sockets are closed: the service's descriptors come back down once it has seen them go
    const settled = await waitFor(async () => { const s = await processStats(svc); return s !== undefined && before !== undefined && s.fds <= before.fds + 20 && s }, 5000, 200)
    const after = settled === undefined ? await processStats(svc) : settled
    const health = probe.worst()
    if (health.misses > 0) problems.push(`/healthz unanswered ${health.misses} times`)
    if (settled === undefined && before !== undefined && after !== undefined) problems.push(`open fds ${before.fds} → ${after.fds} 5 s after every attacker left`)
    await probe.stop()
    details(problems)
    rows.push(record({
      scenario: 'hostile: well-behaved clients meanwhile',
      injected: `all of the above, plus ${slowSeen.count} never-reading WebSocket and SSE clients`,
      often: `${good.length} clients, a new upstream day every ${ms(SWITCH_MS)}`,
      did: `every publish delivered to all within ${ms(worst)}; longest silence ${ms(Math.max(...good.map((c) => c.maxGapMs)))}; ${slowSeen.did}; /healthz ≤ ${ms(health.maxMs)}` +
        (before !== undefined && after !== undefined ? `; fds ${before.fds}→${after.fds}, RSS ${mb(before.rss)}→${mb(after.rss)}` : ''),
      wrong: summarise(problems),
      ok: problems.length === 0,
      ms: Date.now() - started
    }))
    progress(`${problems.length === 0 ? 'pass' : 'FAIL'} well-behaved clients${problems.length > 0 ? `: ${summarise(problems, 2)}` : ''}`)
  } catch (err) {
    rows.push(record({ scenario: 'hostile clients', injected: '—', often: '—', did: 'could not run', wrong: `runner: ${(err as Error).message}`, ok: false, ms: 0 }))
  } finally {
    await scope.close()
  }
  return rows
}
