// `npm run bench [-- --quick] [-- --only=rest,hub,poll,widget]`: every benchmark in its own process, then the
// targets table and test/bench/results/latest.json. Exits non-zero when a benchmark failed or a ratio passed
// its CI threshold (see targets.ts and test/bench/README.md).
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../support/process.js'
import { latest, meets, targets } from './targets.js'
import type { Parts } from './targets.js'
import { QUICK, RESULTS, readPart, table, writePart } from './stats.js'

const SECTIONS: Array<[keyof Parts, string, string]> = [
  ['rest', 'rest.ts', 'REST: service vs bare Fastify (autocannon)'],
  ['hub', 'hub.ts', 'push fan-out: hub (WebSocket, SSE) vs raw ws vs Socket.IO'],
  ['poll', 'poll.ts', 'poll cycle and cold start'],
  ['widget', 'widget.ts', 'widget size and first render']
]
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',')
const started = Date.now()
const failed: string[] = []
for (const [name, file, title] of SECTIONS) {
  if (only !== undefined && !only.includes(name)) continue
  rmSync(join(RESULTS, `${name}.json`), { force: true })
  process.stdout.write(`\n== ${title}\n`)
  const t0 = Date.now()
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'bench', file), ...(QUICK ? ['--quick'] : [])], { cwd: ROOT, stdio: 'inherit', env: process.env })
  if (res.status !== 0) failed.push(name)
  process.stdout.write(`(${name}: ${Math.round((Date.now() - t0) / 1000)} s)\n`)
}

const parts: Parts = Object.fromEntries(SECTIONS.map(([name]) => [name, readPart(name)]))
const rows = targets(parts).filter((t) => only === undefined || t.value !== undefined)
const fmt = (x: number | undefined): string => x === undefined ? 'missing' : Number.isInteger(x) ? String(x) : x.toFixed(2)
const regressions = rows.filter((t) => t.gate !== null && !meets(t, t.gate))
process.stdout.write(`\n== targets (${QUICK ? 'quick run' : 'full run'}; ratios are service / baseline in the same run)\n\n` +
  table(['target', 'measured', 'target', 'met', 'CI gate', 'gate'], rows.map((t) => [
    t.name, `${fmt(t.value)} ${t.unit}`, `${t.higher ? '≥' : '≤'} ${t.target}`, meets(t, t.target) ? 'pass' : 'FAIL',
    t.gate === null ? '-' : `${t.higher ? '≥' : '≤'} ${t.gate}`, t.gate === null ? '-' : meets(t, t.gate) ? 'ok' : 'REGRESSION'
  ])) + '\n')

const machine = `${availableParallelism()} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`
writePart('latest', { ...latest(parts), quick: QUICK, machine, at: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000) })
process.stdout.write(`\nmachine: ${machine}; ${Math.round((Date.now() - started) / 1000)} s; written to test/bench/results/latest.json\n`)
if (failed.length > 0) process.stdout.write(`benchmarks that failed: ${failed.join(', ')}\n`)
if (regressions.length > 0) process.stdout.write(`beyond the CI threshold: ${regressions.map((t) => t.name).join('; ')}\n`)
process.exit(failed.length > 0 || regressions.length > 0 ? 1 : 0)
