// Poll cycle and cold start. CPU of one cycle (decode and parse the ten recorded payloads, fold, reconcile),
// median of many after a warm-up, with the first (cold) cycle beside it; then the built service started on a
// persisted state, from spawn to the first snapshot served.
//
//   node --import tsx test/bench/poll.ts [--quick]     BENCH_POLL_CYCLES (300), BENCH_COLD_REPS (5)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { SERVER_JS, freePort, serviceEnv, startContender, stateCopy } from './procs.js'
import { pollCycle, record, writeState } from './state.js'
import { QUICK, figure, show, table, writePart } from './stats.js'

const CYCLES = Number(process.env.BENCH_POLL_CYCLES ?? (QUICK ? 60 : 300))
const COLD_REPS = Number(process.env.BENCH_COLD_REPS ?? (QUICK ? 2 : 5))

const rec = record('2025-11-26')
const previous = { quote: 'USD', seq: 1, updatedAt: '2025-11-25T12:00:00.000Z', rates: pollCycle(record('2025-11-25'), undefined, {}).rates }
function cpuOfCycle (): { cpu: number, wall: number } {
  const c0 = process.cpuUsage()
  const w0 = performance.now()
  pollCycle(rec, previous, {})
  const c = process.cpuUsage(c0)
  return { cpu: (c.user + c.system) / 1000, wall: performance.now() - w0 }
}
const first = cpuOfCycle()
for (let i = 0; i < 20; i++) cpuOfCycle()
const cycles = Array.from({ length: CYCLES }, cpuOfCycle)
const cpu = figure(cycles.map((c) => c.cpu))
const wall = figure(cycles.map((c) => c.wall))

const stateDir = mkdtempSync(join(tmpdir(), 'fx-bench-cold-'))
const seq = writeState(stateDir).seq
const cold: number[] = []
try {
  for (let i = 0; i < COLD_REPS; i++) {
    const copy = stateCopy(stateDir)
    const port = await freePort()
    const svc = await startContender(0, [SERVER_JS], serviceEnv(copy.dir, port), port, '/v1/rates')
    try {
      const served = await (await fetch(`${svc.origin}/v1/rates`)).json() as { seq: number }
      if (served.seq !== seq) throw new Error(`cold start served seq ${served.seq}, not the persisted ${seq}`)
      cold.push(svc.readyMs)
    } finally {
      await svc.stop()
      copy.cleanup()
    }
  }
} finally {
  rmSync(stateDir, { recursive: true, force: true })
}
const coldMs = figure(cold)
process.stdout.write(`poll cycle: the ten recorded payloads decoded, parsed, folded and reconciled; median (min–max) of ${CYCLES} after a warm-up\n` +
  `cold start: node dist/server.js with a persisted state, spawn to the first 200 on /v1/rates, ${COLD_REPS} runs\n\n` +
  table(['measure', 'ms'], [
    ['poll cycle CPU', show(cpu, 2)],
    ['poll cycle wall', show(wall, 2)],
    ['first (cold) cycle CPU', first.cpu.toFixed(2)],
    ['cold start to snapshot served', show(coldMs, 0)]
  ]) + '\n')
writePart('poll', { cycles: CYCLES, cpuMs: cpu, wallMs: wall, firstCpuMs: first.cpu, coldStartMs: coldMs })
