import type { Snapshot } from '../../src/domain/rate.js'
import { SOURCE_IDS } from '../../src/domain/sources.js'
import { entries } from '../support/cluster.js'
import { same } from './check.js'
import { getJson, launch, probeHealth, rates, stop } from './service.js'
import type { Probe, ServiceProcess } from './service.js'
import { plusDays, today, waitFor } from './scope.js'
import type { Scope } from './scope.js'
import type { Upstream } from './upstream.js'

/** One service process on the fault-injecting upstream, with the snapshot it published before any fault. */
export interface Session {
  svc: ServiceProcess
  env: Record<string, string>
  base: Snapshot
  /** Fixings of KZT in /v1/history before any fault. */
  history: number
  probe: Probe
}

/** Waits for a snapshot that two more polls of every source leave unchanged. */
export async function settle (svc: ServiceProcess, up: Upstream, accept: (s: Snapshot) => boolean, boundMs: number): Promise<Snapshot | undefined> {
  const deadline = Date.now() + boundMs
  return await waitFor(async () => {
    const first = (await rates(svc)).body
    if (first === undefined || !Array.isArray(first.rates) || !accept(first)) return false
    const seen = Object.fromEntries(SOURCE_IDS.map((id) => [id, up.stats(id).requests]))
    const polled = await waitFor(() => SOURCE_IDS.every((id) => up.stats(id).requests >= (seen[id] ?? 0) + 2), Math.max(0, deadline - Date.now()))
    if (polled === undefined) return false
    const second = (await rates(svc)).body
    return second?.seq === first.seq && second
  }, boundMs, 100)
}

const onDay = (day: string, withChange: boolean) => (s: Snapshot): boolean =>
  s.rates.length === 5 && s.rates.every((r) => r.date === day && (!withChange || r.change !== null))

/**
 * A fresh service on a fresh state directory: yesterday's fixings first, then today's, so the baseline has
 * a change and two days of history for a fault to corrupt.
 */
export async function openSession (scope: Scope, up: Upstream, env: Record<string, string>, boundMs: number): Promise<Session> {
  const fullEnv = { ...env, ...up.env, FX_STATE_DIR: scope.tempDir('state') }
  const day = today()
  up.setDay(plusDays(day, -1), '2025-11-25')
  const svc = await launch(scope, fullEnv)
  const first = await settle(svc, up, onDay(plusDays(day, -1), false), boundMs)
  if (first === undefined) throw new Error(`no settled snapshot of ${plusDays(day, -1)} within ${boundMs} ms`)
  up.setDay(day, '2025-11-26')
  const base = await settle(svc, up, onDay(day, true), boundMs)
  if (base === undefined) throw new Error(`no settled snapshot of ${day} within ${boundMs} ms`)
  const history = await fixings(svc)
  return { svc, env: fullEnv, base, history, probe: probeHealth(svc) }
}

export async function fixings (svc: ServiceProcess): Promise<number> {
  const r = await getJson<{ fixings?: unknown[] }>(`${svc.url}/v1/history/KZT?days=30`)
  return r.body?.fixings?.length ?? 0
}

/** SIGTERM must end the process within the service's own drain limit. */
export async function closeSession (session: Session, graceMs?: number): Promise<string[]> {
  await session.probe.stop()
  const ended = await stop(session.svc, graceMs)
  return ended.killed ? [`SIGTERM did not end the process within ${ended.ms} ms (killed)`] : []
}

/**
 * Stops the service and starts it again on the same state: it must load what it persisted without setting
 * anything aside, keep the history, and publish exactly the baseline once every source has been polled.
 */
export async function restart (scope: Scope, session: Session, up: Upstream, boundMs: number): Promise<{ session: Session, problems: string[] }> {
  const problems = await closeSession(session)
  const svc = await launch(scope, session.env)
  const next = { ...session, svc, probe: probeHealth(svc) }
  if (entries(svc).some((e) => /set aside|could not be set aside/.test(e.msg))) problems.push('the state file was set aside on restart')
  const loaded = (await rates(svc)).status
  if (loaded !== 200) problems.push(`after restart /v1/rates answered ${loaded} before any poll`)
  const settled = await settle(svc, up, () => true, boundMs)
  if (!same(settled, session.base)) problems.push(`after restart: ${describe(settled, session.base)}`)
  const kept = await fixings(svc)
  if (kept < session.history) problems.push(`history lost on restart (${kept} of ${session.history} fixings)`)
  return { session: next, problems }
}

/** Which published rates differ from the baseline, briefly. */
export function describe (s: Snapshot | undefined, base: Snapshot): string {
  if (s === undefined) return 'no settled snapshot'
  const changed = base.rates.flatMap((want) => {
    const r = s.rates.find((x) => x.pair === want.pair)
    if (r === undefined) return [`${want.pair} missing`]
    if (r.basis !== want.basis || r.date !== want.date || r.inverse !== want.inverse) return [`${r.pair} ${r.basis} ${r.date} ${Number(r.inverse.toPrecision(6))}`]
    return []
  })
  return changed.length > 0 ? changed.join(', ') : 'sources weighed differently'
}
