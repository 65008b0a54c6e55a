// Prints the size of the built widget against its 6 KB gzip budget: `node scripts/widget-size.js [--json]`.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { BUDGET_GZIP, buildWidget } from './build-widget.js'

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'widget', 'widget.js')
if (!existsSync(file)) await buildWidget()
const bytes = readFileSync(file)
const gzip = gzipSync(bytes, { level: 9 }).length
const ratio = gzip / BUDGET_GZIP
if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify({ raw: bytes.length, gzip, budgetGzip: BUDGET_GZIP, ratio: Number(ratio.toFixed(3)) }) + '\n')
} else {
  process.stdout.write(`widget.js: ${bytes.length} B raw, ${gzip} B gzip, ${(ratio * 100).toFixed(1)}% of the ${BUDGET_GZIP} B gzip budget\n`)
}
process.exitCode = gzip <= BUDGET_GZIP ? 0 : 1
