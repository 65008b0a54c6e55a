import { SOURCE_IDS } from '../../src/domain/sources.js'
import type { SourceId } from '../../src/domain/sources.js'
import { LEAK, allAt, checkRates, same } from './check.js'
import { faultKinds } from './faults.js'
import { FORMATS } from './formats.js'
import type { FaultKind } from './faults.js'
import { details, progress, record, summarise } from './report.js'
import type { Row } from './report.js'
import { alive, backgroundLoad, processStats, rates, ready } from './service.js'
import { createScope, mb, ms, today, waitFor } from './scope.js'
import { closeSession, describe, openSession, restart } from './session.js'
import type { Session } from './session.js'
import { startUpstream } from './upstream.js'
import type { Upstream } from './upstream.js'

// The service's timers for this scenario; every bound below is derived from them.
const INTERVAL_MS = 300
const TIMEOUT_MS = 1000
const MAX_BYTES = 65_536
/** A poll ends within twice the HTTP timeout (its total deadline) and the next starts within the interval. */
const POLL_MS = 2 * TIMEOUT_MS + INTERVAL_MS
const DETECT_MS = 3 * POLL_MS + 2000
const RECOVER_MS = 2 * POLL_MS + 2000
/** Longest a faulty upstream request may stay open: the total deadline plus scheduling slack. */
const HOLD_MS = 2 * TIMEOUT_MS + 1500
const SETTLE_MS = 30_000
/** Phases of one kind that may leave the service hung or off its baseline before the rest are skipped. */
const MAX_BROKEN = 3

interface PhaseResult { problems: string[], detectMs: number | undefined, recoverMs: number | undefined, faulty: number, dirty: boolean }

/** Injects `kind` into `targets`, watches the service until the fault has been served and handled, then lifts it. */
async function phase (s: Session, up: Upstream, kind: FaultKind, targets: readonly SourceId[]): Promise<PhaseResult> {
  const problems: string[] = []
  const label = targets.length === SOURCE_IDS.length ? 'all sources' : targets.join(',')
  const note = (p: string): void => { problems.push(`${label}: ${p}`) }
  up.resetStats()
  await up.setFault(targets, kind.fault)
  const load = kind.fault.transport !== undefined ? backgroundLoad(s.svc) : undefined
  const started = Date.now()
  const factors = kind.expect === 'moves' ? [1, 10] : [1]
  let detectMs: number | undefined
  let unhealthy: SourceId[] = []
  const reasons = new Map<SourceId, string | null>()
  await waitFor(async () => {
    const served = await rates(s.svc)
    if (served.status !== 200) note(served.status === 0 ? '/v1/rates did not answer' : `/v1/rates answered ${served.status}`)
    else problems.push(...checkRates(served.body, s.base, { factors, faulty: kind.expect === 'refused' ? [] : targets }).map((p) => `${label}: ${p}`))
    const health = (await ready(s.svc)).body?.sources ?? []
    for (const h of health) if (targets.includes(h.id as SourceId) && !h.ok) reasons.set(h.id as SourceId, h.error ?? h.lastError ?? null)
    unhealthy = targets.filter((id) => (health.find((h) => h.id === id)?.consecutiveFailures ?? 0) >= 2 ||
      (kind.omittable === true && FORMATS[id].poison !== 'USD' && up.stats(id).faulty >= 3))
    if (kind.expect === 'refused' && unhealthy.length === targets.length) detectMs ??= Date.now() - started
    const handled = kind.expect === 'refused'
      ? unhealthy.length === targets.length
      : targets.every((id) => up.stats(id).faulty >= 3) && (kind.expect !== 'moves' || allAt(served.body, s.base, 10))
    return (handled && Date.now() - started >= (kind.polls ?? 0) * POLL_MS) || hung(s)
  }, DETECT_MS + (kind.polls ?? 0) * POLL_MS, 100)
  if (kind.expect === 'refused' && unhealthy.length !== targets.length) {
    detectMs = undefined
    note(`still reported healthy: ${targets.filter((id) => !unhealthy.includes(id)).join(',')}`)
  } else if (kind.expect === 'moves' && !allAt((await rates(s.svc)).body, s.base, 10)) note('a 10× move agreed by every source was not published')
  if (kind.expect === 'refused') problems.push(...checkRates((await rates(s.svc)).body, s.base, { strict: true }).map((p) => `${label}: ${p}`))
  const faulty = upstreamSide(up, kind, targets, reasons, note)
  await load?.stop()
  await up.setFault(targets, undefined)
  const lifted = Date.now()
  const back = async (): Promise<boolean> => {
    const health = (await ready(s.svc)).body?.sources ?? []
    return targets.every((id) => health.find((h) => h.id === id)?.ok === true) && same((await rates(s.svc)).body, s.base)
  }
  const recovered = hung(s) ? undefined : await waitFor(back, RECOVER_MS, 100)
  const recoverMs = recovered === undefined ? undefined : Date.now() - lifted
  if (recovered === undefined) note(`not back to the baseline ${ms(RECOVER_MS)} after the fault ended (${describe((await rates(s.svc)).body, s.base)})`)
  const health = s.probe.worst()
  if (health.misses > 0) note(`/healthz unanswered ${health.misses} times (process ${alive(s.svc) ? 'hung' : 'exited'})`)
  return { problems, detectMs, recoverMs, faulty, dirty: recovered === undefined || health.misses > 0 }
}

/**
 * What the fault looked like from the upstreams' side and in the public reasons: every request ended within
 * its deadline, connections stayed few, the fault was really served, and each failing source says why in
 * words that name nothing internal. Returns the number of faulty answers served.
 */
function upstreamSide (up: Upstream, kind: FaultKind, targets: readonly SourceId[], reasons: Map<SourceId, string | null>, note: (p: string) => void): number {
  for (const [id, reason] of reasons) {
    if (reason === null || reason.trim() === '') note(`${id} failing without a reason in /readyz`)
    else if (LEAK.test(reason)) note(`/readyz shows internals for ${id}: "${reason}"`)
  }
  let faulty = 0
  for (const id of targets) {
    const st = up.stats(id)
    faulty += st.faulty
    if (kind.fault.transport !== undefined && st.longestMs > HOLD_MS) note(`${id} held a request open ${ms(st.longestMs)}`)
    if (st.maxOpen > 4) note(`${id} had ${st.maxOpen} connections open at once`)
    if (kind.fault.mutate !== undefined && st.faulty === 0 && st.requests > 0) note(`${id}: the fault could not be written into its payload`)
  }
  return faulty
}

/** The process stopped answering /healthz (or exited): nothing more can be learnt from it. */
const hung = (s: Session): boolean => s.probe.worst().misses >= 2 || !alive(s.svc)

/**
 * The phases of one kind: each source alone, then all at once. Quick runs inject into all at once only,
 * or, for a kind that is about one source, into one source taken in turn.
 */
function phasesOf (kind: FaultKind, index: number, quick: boolean): SourceId[][] {
  const each = quick ? [[SOURCE_IDS[index % SOURCE_IDS.length] as SourceId]] : SOURCE_IDS.map((id) => [id])
  if (kind.targets === 'each') return each
  if (kind.targets === 'all' || quick) return [[...SOURCE_IDS]]
  return [...each, [...SOURCE_IDS]]
}

/** Scenario 1: the upstream fault matrix, one row per kind of fault. */
export async function faultMatrix ({ quick }: { quick: boolean }): Promise<Row[]> {
  const scope = createScope()
  const rows: Row[] = []
  try {
    const up = await startUpstream(scope, { date: today(), recorded: '2025-11-26', dripMs: Math.round(TIMEOUT_MS / 4), maxBytes: MAX_BYTES })
    const env = {
      FX_POLL_INTERVAL_MS: String(INTERVAL_MS),
      FX_HTTP_TIMEOUT_MS: String(TIMEOUT_MS),
      FX_HTTP_MAX_BYTES: String(MAX_BYTES),
      // the runner's own checks and background traffic come from one address: not what this scenario limits
      FX_RATE_LIMIT_PER_MIN: '100000',
      // a small young generation makes the collector run often: whatever only weakly held (a timer, a signal)
      // is collected soon, so a deadline that depends on when the collector runs fails here, not by chance
      NODE_OPTIONS: '--max-semi-space-size=1'
    }
    let session: Session | undefined
    const kinds = faultKinds()
    for (const [index, kind] of kinds.entries()) {
      const started = Date.now()
      const problems: string[] = []
      const detect: number[] = []
      const recover: number[] = []
      let faulty = 0
      let phases = 0
      const skipped: SourceId[] = []
      let shape = ''
      let statsLine = ''
      try {
        session ??= await openSession(scope, up, env, SETTLE_MS)
        session.probe.reset()
        let before = await processStats(session.svc)
        let dirty = false
        let broken = 0
        const plan = phasesOf(kind, index, quick)
        shape = plan.length === 1 ? (plan[0]?.length === 1 ? `${plan[0]?.[0] ?? ''} alone` : 'all sources at once') : plan.some((p) => p.length > 1) ? 'each source alone, then all at once' : 'each source alone'
        for (const targets of plan) {
          // a fault that keeps breaking the service costs a fresh one per source: past a few, the rest
          // of the single-source phases add time, not information (the all-sources phase still runs)
          if (broken >= MAX_BROKEN && targets.length === 1) {
            skipped.push(targets[0] as SourceId)
            continue
          }
          if (dirty) {
            // a phase left the service hung or off its baseline: the next phases get a fresh one
            problems.push(...await closeSession(session, hung(session) ? 3000 : undefined))
            session = await openSession(scope, up, env, SETTLE_MS)
            before = await processStats(session.svc)
          }
          const r = await phase(session, up, kind, targets)
          phases++
          problems.push(...r.problems)
          faulty += r.faulty
          if (r.detectMs !== undefined) detect.push(r.detectMs)
          if (r.recoverMs !== undefined) recover.push(r.recoverMs)
          dirty = r.dirty
          if (dirty) broken++
        }
        if (skipped.length > 0) problems.push(`not tried alone after ${MAX_BROKEN} broken phases: ${skipped.join(',')}`)
        const after = await processStats(session.svc)
        if (before !== undefined && after !== undefined) {
          statsLine = `; fds ${before.fds}→${after.fds}, RSS ${mb(before.rss)}→${mb(after.rss)}`
          if (after.fds > before.fds + 20) problems.push(`open fds grew from ${before.fds} to ${after.fds}`)
          if (after.rss > before.rss + 150 * 1_048_576) problems.push(`RSS grew from ${mb(before.rss)} to ${mb(after.rss)}`)
        }
        const health = session.probe.worst()
        statsLine += health.misses > 0 ? '; /healthz stopped answering' : `; /healthz ≤ ${ms(health.maxMs)}`
        if (!dirty && kind.restart && (!quick || kind.name === 'future date')) {
          const r = await restart(scope, session, up, SETTLE_MS)
          session = r.session
          problems.push(...r.problems)
          dirty = r.problems.length > 0
          statsLine += '; restart loads the same state'
        }
        if (dirty) {
          problems.push(...await closeSession(session, hung(session) ? 3000 : undefined))
          session = undefined
        }
      } catch (err) {
        problems.push(`runner: ${(err as Error).message}`)
        if (session !== undefined) await closeSession(session, 3000).catch(() => [])
        session = undefined
      }
      const did = kind.expect === 'refused'
        ? `marked failing${kind.omittable === true ? ' (USD-based feeds: dropped the bad row)' : ''} in ${range(detect)}, back to the baseline ${range(recover)} after`
        : kind.expect === 'moves' ? `published the agreed move; back ${range(recover)} after` : `outvoted or ignored; back ${range(recover)} after`
      rows.push(record({
        scenario: `upstream: ${kind.name}`,
        injected: kind.injected,
        often: `${phases} phase${phases === 1 ? '' : 's'} (${shape}), ${faulty} faulty answers`,
        did: `${did}${statsLine}`,
        wrong: summarise(problems),
        ok: problems.length === 0,
        ms: Date.now() - started
      }))
      progress(`${rows.at(-1)?.ok === true ? 'pass' : 'FAIL'} ${kind.name}${problems.length > 0 ? `: ${summarise(problems, 2)}` : ''}`)
      details(problems)
    }
    if (session !== undefined) await closeSession(session)
  } finally {
    await scope.close()
  }
  return rows
}

function range (values: number[]): string {
  if (values.length === 0) return '—'
  return `≤ ${ms(Math.max(...values))}`
}
