// `npm run reliability [-- --quick] [-- --only=matrix,soak]`: runs the built service through upstream faults,
// hostile clients, crashes and a soak on loopback, prints one table, and exits non-zero if any row failed.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../support/process.js'
import { crashes } from './crash.js'
import { faultMatrix } from './matrix.js'
import { properties } from './properties.js'
import { hostileClients } from './hostile.js'
import { redisFailures } from './redis-failures.js'
import { progress, record, recorded, table } from './report.js'
import type { Row } from './report.js'
import { abandonAll } from './scope.js'
import { soak } from './soak.js'

interface Options { quick: boolean }
type Scenario = (options: Options) => Promise<Row[]>

const SCENARIOS: Array<[string, string, Scenario]> = [
  ['matrix', 'upstream fault matrix', faultMatrix],
  ['properties', 'property-based parsing', properties],
  ['hostile', 'hostile clients', hostileClients],
  ['crash', 'kill -9 during persistence', crashes],
  ['redis', 'Redis failures', redisFailures],
  ['soak', 'soak', soak]
]

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',')
// the whole run stops itself: past this, whatever is still running is killed and reported. A passing run
// takes about 2 and 10 minutes; a failing one waits out more bounds.
const LIMIT_MS = quick ? 240_000 : 720_000

const rows = recorded
let finished = false

function finish (): void {
  if (finished) return
  finished = true
  process.stdout.write(`\n${table(rows)}\n\n`)
  const failed = rows.filter((r) => !r.ok).length
  process.stdout.write(failed === 0 ? `all ${rows.length} checks passed\n` : `${failed} of ${rows.length} checks FAILED\n`)
  abandonAll()
  process.exit(failed === 0 && rows.length > 0 ? 0 : 1)
}

const watchdog = setTimeout(() => {
  if (finished) return
  record({ scenario: 'run', injected: '—', often: '—', did: `stopped after ${LIMIT_MS / 1000} s`, wrong: 'the run exceeded its time limit', ok: false, ms: LIMIT_MS })
  finish()
}, LIMIT_MS)
// a fault in the runner itself still ends with the table and no process left behind
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (err: unknown) => {
    if (finished) return
    record({ scenario: 'run', injected: '—', often: '—', did: 'the runner failed', wrong: `runner: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, ok: false, ms: 0 })
    finish()
  })
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (finished) return
    record({ scenario: 'run', injected: '—', often: '—', did: `interrupted by ${signal}`, wrong: 'incomplete run', ok: false, ms: 0 })
    finish()
  })
}

if (!existsSync(join(ROOT, 'dist', 'server.js'))) {
  process.stderr.write('dist/server.js is missing: run `npm run build` first (npm run reliability does)\n')
  process.exit(1)
}

const started = Date.now()
for (const [id, title, scenario] of SCENARIOS) {
  if (only !== undefined && !only.includes(id)) continue
  progress(`${title}${quick ? ' (quick)' : ''}`)
  const t0 = Date.now()
  try {
    await scenario({ quick })
  } catch (err) {
    record({ scenario: title, injected: '—', often: '—', did: 'the scenario could not run', wrong: `runner: ${(err as Error).stack ?? String(err)}`, ok: false, ms: Date.now() - t0 })
  }
  if (finished) break
}
clearTimeout(watchdog)
progress(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`)
finish()
