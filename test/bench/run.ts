import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from '../support/process.js'

/** `npm run bench`: every benchmark in turn, each printing its own figures and ratios. */
const steps: Array<[string, string[]]> = [
  ['widget bundle size', [join(ROOT, 'scripts', 'widget-size.js')]],
  ['push hub fan-out (WebSocket clients, hub vs raw ws)', ['--import', 'tsx', join(ROOT, 'test', 'bench', 'hub.ts')]]
]

let failed = false
for (const [title, args] of steps) {
  process.stdout.write(`\n== ${title}\n`)
  const res = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env: process.env })
  if (res.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
