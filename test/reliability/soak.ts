import { Arrivals, openSse, openWs } from './clients.js'
import type { Client, ClientOptions } from './clients.js'
import { lateness, publishTimes } from './hostile.js'
import { details, progress, record, summarise } from './report.js'
import type { Row } from './report.js'
import { launch, probeHealth, processStats, rates } from './service.js'
import type { ProcessStats } from './service.js'
import { createScope, mb, ms, plusDays, tick, today, waitFor } from './scope.js'
import { startUpstream } from './upstream.js'

const INTERVAL_MS = 500
const HEARTBEAT_MS = 2000
/**
 * A publish reaches every connected client before two heartbeat periods have passed, fanned out to thousands
 * (the clients' receive times include the runner's own event loop, which holds all of them).
 */
const DELIVER_MS = 2 * HEARTBEAT_MS
const CHURN_EVERY_MS = 500

interface Sample extends ProcessStats { at: number }

/** Least-squares slope of `pick` over the samples, per minute. */
function slope (samples: Sample[], pick: (s: Sample) => number): number {
  const n = samples.length
  if (n < 2) return 0
  const t0 = samples[0]?.at ?? 0
  const xs = samples.map((s) => (s.at - t0) / 60_000)
  const ys = samples.map(pick)
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  const num = xs.reduce((a, x, i) => a + (x - mx) * ((ys[i] as number) - my), 0)
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0)
  return den === 0 ? 0 : num / den
}

const third = (samples: Sample[], pick: (s: Sample) => number, which: 'first' | 'last'): number => {
  const k = Math.max(1, Math.floor(samples.length / 3))
  const part = which === 'first' ? samples.slice(0, k) : samples.slice(-k)
  return part.reduce((a, s) => a + pick(s), 0) / part.length
}

/** Scenario 5: thousands of WebSocket and SSE clients with churn while the upstream day keeps switching. */
export async function soak ({ quick }: { quick: boolean }): Promise<Row[]> {
  const scope = createScope()
  const started = Date.now()
  const problems: string[] = []
  const wsCount = quick ? 200 : 2000
  const sseCount = quick ? 100 : 1000
  const durationMs = quick ? 10_000 : 120_000
  const switchMs = quick ? 2000 : 3000
  const sampleMs = quick ? 2000 : 5000
  let did = ''
  let reconnects = 0
  try {
    const up = await startUpstream(scope, { date: plusDays(today(), -Math.ceil(durationMs / switchMs) - 20), recorded: '2025-11-25', dripMs: 250, maxBytes: 2_000_000 })
    const svc = await launch(scope, {
      ...up.env,
      FX_STATE_DIR: scope.tempDir('state'),
      FX_POLL_INTERVAL_MS: String(INTERVAL_MS),
      FX_STALE_AFTER_MS: String(3650 * 86_400_000),
      FX_RATE_LIMIT_PER_MIN: '100000',
      WS_MAX_CONNECTIONS_PER_IP: '100000',
      WS_HEARTBEAT_MS: String(HEARTBEAT_MS),
      LOG_LEVEL: 'info'
    })
    if (await waitFor(async () => (await rates(svc)).body?.rates?.length === 5, 20_000, 100) === undefined) throw new Error('no first snapshot')
    const observed = new Arrivals()
    const address = (i: number): string => `127.0.1.${1 + (i % 20)}`
    const open = (i: number, options: ClientOptions): Client => (i < wsCount ? openWs : openSse)(svc.url, { localAddress: address(i), ...options })
    const clients: Client[] = []
    // every tenth client is an observer: never churned, it times every publish
    const isObserver = (i: number): boolean => i % 10 === 0
    for (let i = 0; i < wsCount + sseCount; i += 200) {
      const batch = Array.from({ length: Math.min(200, wsCount + sseCount - i) }, (_x, j) => open(i + j, isObserver(i + j) ? { arrivals: observed } : {}))
      clients.push(...batch)
      await Promise.all(batch.map(async (c) => await c.ready.catch(() => {})))
    }
    scope.teardown(() => { for (const c of clients) c.close() })
    const refused = clients.filter((c) => c.messages === 0).length
    if (refused > 0) problems.push(`${refused} clients were not served at connect (${[...new Set(clients.filter((c) => c.messages === 0).map((c) => c.ended))].slice(0, 2).join(', ')})`)
    const observerCount = clients.filter((_c, i) => isObserver(i)).length

    const probe = probeHealth(svc, 500, 2 * HEARTBEAT_MS)
    const advancing = setInterval(() => up.advance(), switchMs)
    scope.teardown(() => clearInterval(advancing))
    let serverClosed = 0
    let random = 0x2545f491
    const next = (): number => { random = (random * 1_103_515_245 + 12_345) % 2 ** 31; return random / 2 ** 31 }
    const churn = setInterval(() => {
      for (let k = 0; k < Math.ceil(clients.length / 200); k++) {
        const i = Math.floor(next() * clients.length)
        const c = clients[i] as Client
        if (isObserver(i)) continue
        if (c.ended !== undefined) serverClosed++
        c.close()
        // most resume from what they hold; some come back fresh
        clients[i] = open(i, next() < 0.75 ? { since: c.seq } : {})
        reconnects++
      }
    }, CHURN_EVERY_MS)
    scope.teardown(() => clearInterval(churn))

    const samples: Sample[] = []
    const watchFrom = Date.now()
    while (Date.now() - watchFrom < durationMs) {
      const s = await processStats(svc)
      if (s !== undefined) samples.push({ ...s, at: Date.now() })
      await tick(sampleMs)
    }
    clearInterval(churn)
    clearInterval(advancing)
    await Promise.all(clients.map(async (c) => await c.ready.catch(() => {})))
    const final = await waitFor(async () => {
      const seq = (await rates(svc)).body?.seq
      return seq !== undefined && clients.every((c) => c.seq === seq || c.ended !== undefined) && seq
    }, 10_000, 200)
    const behind = clients.filter((c) => c.ended === undefined && c.seq !== final).length
    if (final === undefined) problems.push(`${behind} clients did not reach the last published seq`)
    const gone = clients.filter((c) => c.ended !== undefined).length
    if (gone > 0) problems.push(`${gone} clients were disconnected by the service (${[...new Set(clients.map((c) => c.ended).filter((e) => e !== undefined))].slice(0, 2).join(', ')})`)
    if (serverClosed > 0) problems.push(`${serverClosed} churned clients had been disconnected by the service`)
    const backwards = clients.reduce((a, c) => a + c.backwards, 0)
    if (backwards > 0) problems.push(`${backwards} times a client received an older seq than it held (resumed ones included)`)
    const { worst, lost } = lateness(publishTimes(svc, watchFrom + HEARTBEAT_MS), observed, observerCount)
    if (worst > DELIVER_MS) problems.push(`a publish reached every observer only after ${ms(worst)}`)
    if (lost.length > 0) problems.push(`published seqs not received by every observer: ${lost.slice(0, 5).join(', ')}`)
    const health = probe.worst()
    await probe.stop()
    if (health.misses > 0) problems.push(`/healthz unanswered ${health.misses} times`)

    const first = samples[0]
    const last = samples.at(-1)
    if (first === undefined || last === undefined) throw new Error('no /metrics samples')
    const rss = (s: Sample): number => s.rss
    const heap = (s: Sample): number => s.heap
    if (third(samples, rss, 'last') > third(samples, rss, 'first') * 1.25 + 50 * 1_048_576) problems.push(`RSS grew from ${mb(first.rss)} to ${mb(last.rss)}`)
    if (third(samples, heap, 'last') > third(samples, heap, 'first') * 1.25 + 20 * 1_048_576) problems.push(`heap grew from ${mb(first.heap)} to ${mb(last.heap)}`)
    if (last.fds > first.fds + Math.max(50, clients.length / 50)) problems.push(`open fds grew from ${first.fds} to ${last.fds}`)
    // heartbeats stay on time while the loop's worst delays stay below their period
    const lag = third(samples, (s) => s.lagP99, 'last')
    if (lag > HEARTBEAT_MS) problems.push(`event-loop delay p99 ${ms(lag)} at the end (heartbeat ${ms(HEARTBEAT_MS)})`)
    const perMin = (n: number, unit: string): string => `${n >= 0 ? '+' : ''}${n.toFixed(1)}${unit}/min`
    did = `RSS ${mb(first.rss)}→${mb(last.rss)} (${perMin(slope(samples, rss) / 1_048_576, ' MB')}), heap ${mb(first.heap)}→${mb(last.heap)} (${perMin(slope(samples, heap) / 1_048_576, ' MB')}), ` +
      `event-loop p99 ${ms(first.lagP99)}→${ms(last.lagP99)} (${perMin(slope(samples, (s) => s.lagP99), ' ms')}), open fds ${first.fds}→${last.fds} (${perMin(slope(samples, (s) => s.fds), '')}); ` +
      `every publish reached all ${observerCount} observers within ${ms(worst)}; /healthz ≤ ${ms(health.maxMs)}`
  } catch (err) {
    problems.push(`runner: ${(err as Error).message}`)
  } finally {
    await scope.close()
  }
  details(problems)
  progress(`${problems.length === 0 ? 'pass' : 'FAIL'} soak${problems.length > 0 ? `: ${summarise(problems, 2)}` : ''}`)
  return [record({
    scenario: `soak: ${wsCount} WebSocket + ${sseCount} SSE clients`,
    injected: `churn: connect, resume with since, disconnect; a new upstream day every ${ms(switchMs)}`,
    often: `${reconnects} reconnects over ${(durationMs / 1000).toFixed(0)} s`,
    did,
    wrong: summarise(problems),
    ok: problems.length === 0,
    ms: Date.now() - started
  })]
}
