// REST benchmark: the built service (default logging and LOG_LEVEL=warn) against a bare Fastify process
// answering with the same bytes and headers. Contenders share core 0, autocannon runs on core 1; runs are
// interleaved (repetition, path, contender) and each is bounded, so a stalled path reports 0 req/s.
//
//   node --import tsx test/bench/rest.ts [--quick]      BENCH_REST_S (3), BENCH_REST_REPS (3)
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LoadCommand, LoadResult } from './load.js'
import { SERVER_JS, freePort, serviceEnv, startContender, stateCopy } from './procs.js'
import type { Contender } from './procs.js'
import type { Recording } from './rest-baseline.js'
import { writeState } from './state.js'
import { QUICK, figure, pinned, ratio, show, table, within, writePart } from './stats.js'
import type { Figure } from './stats.js'

const DURATION_S = Number(process.env.BENCH_REST_S ?? (QUICK ? 1 : 3))
const REPS = Number(process.env.BENCH_REST_REPS ?? (QUICK ? 2 : 3))
const CONNECTIONS = 100
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url))

interface PathSpec { name: string, path: string, notModified: boolean }
const PATHS: PathSpec[] = [
  { name: 'rates200', path: '/v1/rates', notModified: false },
  { name: 'rates200-filtered', path: '/v1/rates?symbols=KZT,UZS', notModified: false },
  { name: 'rates304', path: '/v1/rates', notModified: true },
  { name: 'rates304-filtered', path: '/v1/rates?symbols=KZT,UZS', notModified: true },
  { name: 'rate200', path: '/v1/rates/KZT', notModified: false },
  { name: 'history200', path: '/v1/history/KZT?from=2025-10-28&to=2025-11-26', notModified: false }
]
const CONFIGS: Array<[string, Record<string, string>]> = [['default', {}], ['warn', { LOG_LEVEL: 'warn' }]]
const HOP_BY_HOP = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])

/** Asks the service for every benchmarked request once; the baseline replays exactly these answers. */
async function recordAnswers (origin: string): Promise<Recording[]> {
  const out: Recording[] = []
  for (const p of PATHS) {
    let ifNoneMatch: string | undefined
    if (p.notModified) {
      const first = await fetch(origin + p.path)
      await first.arrayBuffer()
      ifNoneMatch = first.headers.get('etag') ?? undefined
    }
    const res = await fetch(origin + p.path, { headers: ifNoneMatch === undefined ? {} : { 'if-none-match': ifNoneMatch } })
    const headers: Record<string, string> = {}
    res.headers.forEach((v, k) => { if (!HOP_BY_HOP.has(k)) headers[k] = v })
    out.push({ path: p.path, ...(ifNoneMatch !== undefined && { ifNoneMatch }), status: res.status, headers, body: await res.text() })
  }
  return out
}

function startLoad (): ChildProcess {
  const [cmd, args] = pinned(1, process.execPath, ['--import', 'tsx', here('./load.ts')])
  return spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
}

/** CPU time (user + system) a process has used so far, in ms, from /proc; NaN where there is none. */
function cpuMs (pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid ?? 0}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) * 1000 / TICKS_PER_S
  } catch {
    return NaN
  }
}
const TICKS_PER_S = 100

type Run = LoadResult & { stalled: boolean, cpuUsPerReq: number }

let load = startLoad()
/**
 * One bounded autocannon run; a run that does not come back in time is killed and counted as stalled.
 * Beside req/s, the contender's CPU time per answered request: a figure that background load on the
 * shared machine moves far less than throughput.
 */
async function measure (cmd: LoadCommand, want: string, pid?: number): Promise<Run> {
  const child = load
  const cpu0 = cpuMs(pid)
  try {
    const r = await within((cmd.durationS + 20) * 1000, cmd.url, new Promise<LoadResult>((resolve, reject) => {
      child.once('message', (m: LoadResult | { error: string }) => ('error' in m ? reject(new Error(m.error)) : resolve(m)))
      child.send(cmd)
    }))
    // throughput counts the expected answers only: a reset or timed-out request has no status at all
    const reqPerSec = (r.codes[want] ?? 0) / r.durationS
    const answered = Object.values(r.codes).reduce((a, b) => a + b, 0)
    return { ...r, reqPerSec, stalled: reqPerSec === 0, cpuUsPerReq: answered === 0 ? NaN : (cpuMs(pid) - cpu0) * 1000 / answered }
  } catch {
    child.kill('SIGKILL')
    load = startLoad()
    return { durationS: cmd.durationS, reqPerSec: 0, p99: NaN, p50: NaN, codes: {}, errors: 0, timeouts: 0, stalled: true, cpuUsPerReq: NaN }
  }
}

const stateDir = mkdtempSync(join(tmpdir(), 'fx-bench-rest-'))
writeState(stateDir)
const copies = CONFIGS.map(() => stateCopy(stateDir))
const contenders = new Map<string, Contender>()
const answers: Recording[][] = []
try {
  for (const [i, [name, env]] of CONFIGS.entries()) {
    const port = await freePort()
    const svc = await startContender(0, [SERVER_JS], serviceEnv((copies[i] as { dir: string }).dir, port, env), port, '/v1/rates')
    contenders.set(`service/${name}`, svc)
    answers.push(await recordAnswers(svc.origin))
  }
  const recFile = join(stateDir, 'answers.json')
  writeFileSync(recFile, JSON.stringify(answers[0]))
  const basePort = await freePort()
  contenders.set('baseline', await startContender(0, ['--import', 'tsx', here('./rest-baseline.ts'), recFile], { PATH: process.env.PATH ?? '', PORT: String(basePort) }, basePort, '/v1/rates'))

  const runs = new Map<string, Run[]>()
  const key = (contender: string, p: PathSpec): string => `${contender} ${p.name}`
  const commandFor = (c: Contender, p: PathSpec, durationS: number): LoadCommand => {
    const rec = (answers[0] as Recording[])[PATHS.indexOf(p)] as Recording
    return { url: c.origin + p.path, headers: rec.ifNoneMatch === undefined ? {} : { 'if-none-match': rec.ifNoneMatch }, connections: CONNECTIONS, durationS }
  }
  // warm-up: JIT, connection pools and the service's first-request work, outside the measured runs
  for (const [, c] of contenders) for (const p of QUICK ? PATHS.slice(0, 1) : PATHS) if (!p.notModified) await measure(commandFor(c, p, 1), '200')
  for (let rep = 0; rep < REPS; rep++) {
    for (const p of PATHS) {
      for (const [name, c] of contenders) {
        const r = await measure(commandFor(c, p, DURATION_S), p.notModified ? '304' : '200', c.child.pid)
        runs.set(key(name, p), [...(runs.get(key(name, p)) ?? []), r])
      }
    }
  }

  const fig = (name: string, p: PathSpec, f: (r: Run) => number): Figure => figure((runs.get(key(name, p)) ?? []).map(f))
  const results: Record<string, Record<string, { service: Figure, baseline: Figure, ratio: number, cpu: { service: Figure, baseline: Figure, ratio: number }, stalled: boolean, unexpected: number }>> = {}
  const rows: Array<Array<string | number>> = []
  for (const [cfg] of CONFIGS) {
    results[cfg] = {}
    for (const p of PATHS) {
      const svc = fig(`service/${cfg}`, p, (r) => r.reqPerSec)
      const base = fig('baseline', p, (r) => r.reqPerSec)
      const want = p.notModified ? '304' : '200'
      const svcRuns = runs.get(key(`service/${cfg}`, p)) ?? []
      const stalled = svcRuns.some((r) => r.stalled)
      const other: Record<string, number> = {}
      for (const r of svcRuns) for (const [code, count] of Object.entries(r.codes)) if (code !== want) other[code] = (other[code] ?? 0) + count
      const unexpected = Object.values(other).reduce((a, b) => a + b, 0)
      const rr = ratio(svc.median, base.median)
      // CPU per request as baseline / service, so that above 1 is better, like the req/s ratio
      const cpu = { service: fig(`service/${cfg}`, p, (r) => r.cpuUsPerReq), baseline: fig('baseline', p, (r) => r.cpuUsPerReq), ratio: NaN }
      cpu.ratio = ratio(cpu.baseline.median, cpu.service.median)
      ;(results[cfg] as Record<string, unknown>)[p.name] = { service: svc, baseline: base, ratio: rr, cpu, stalled, unexpected }
      rows.push([`${cfg} ${p.name}`, stalled ? `${show(svc, 0)} stalled` : show(svc, 0), show(base, 0), rr.toFixed(2),
        show(cpu.service, 1), show(cpu.baseline, 1), cpu.ratio.toFixed(2),
        show(fig(`service/${cfg}`, p, (r) => r.p99), 0), show(fig('baseline', p, (r) => r.p99), 0), Object.entries(other).map(([c, n]) => `${c === 'undefined' ? 'none' : c}×${n}`).join(' ') || '-'])
    }
  }
  process.stdout.write(`REST, ${CONNECTIONS} connections, ${DURATION_S} s per run, ${REPS} interleaved repetitions; median (min–max)\n` +
    'service: node dist/server.js (LOG_LEVEL default / warn); baseline: bare Fastify with the same bytes and headers\n\n' +
    'CPU µs/req: the contender\'s CPU time per answered request (/proc); its ratio is baseline / service\n\n' +
    table(['config path', 'service req/s', 'baseline req/s', 'ratio', 'svc CPU µs/req', 'base CPU µs/req', 'CPU ratio', 'svc p99 ms', 'base p99 ms', 'other statuses'], rows) + '\n')
  const worst = (names: string[]): number => Math.min(...CONFIGS.flatMap(([cfg]) => names.map((n) => (results[cfg]?.[n]?.ratio ?? 0))))
  writePart('rest', {
    durationS: DURATION_S,
    reps: REPS,
    rates200: worst(['rates200', 'rates200-filtered']),
    rates304: worst(['rates304', 'rates304-filtered']),
    rate200: worst(['rate200']),
    history200: worst(['history200']),
    results
  })
} finally {
  load.kill('SIGKILL')
  await Promise.all([...contenders.values()].map(async (c) => await c.stop()))
  for (const c of copies) c.cleanup()
  rmSync(stateDir, { recursive: true, force: true })
}
