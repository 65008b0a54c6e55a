// Prints the size of the built widget (gzip and brotli) against its 6 KB gzip budget, and its language packs:
// `node scripts/widget-size.js [--json] [--analyze]`. --analyze adds each module's share: its minified bytes
// and its marginal gzip cost (how much smaller the gzip is without its code).
import { build } from 'esbuild'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BUDGET_GZIP, brotliSize, buildPacks, buildWidget, bundleOptions, gzipSize } from './build-widget.js'

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'widget')
if (!existsSync(join(DIR, 'manifest.json'))) await buildWidget()
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8'))
const bytes = readFileSync(join(DIR, 'widget.js'))
const gzip = gzipSize(bytes)
const brotli = brotliSize(bytes)
const ratio = gzip / BUDGET_GZIP
const packs = Object.entries(manifest.i18n?.files ?? {}).map(([lang, file]) => {
  const json = readFileSync(join(DIR, file))
  return { lang, raw: json.length, gzip: gzipSize(json), brotli: brotliSize(json) }
})

/** Each input module's minified bytes and marginal gzip cost, in bundle order. */
async function analyze () {
  const p = await buildPacks()
  const result = await build({ ...bundleOptions({ hash: p.hash, languages: Object.keys(p.files) }), metafile: true })
  const out = Buffer.from(result.outputFiles[0].contents)
  const full = gzipSize(out)
  // the iife's modules follow one another in the order the metafile lists them, after the wrapper's opening
  let offset = out.indexOf('(()=>{') + 6
  return Object.entries(Object.values(result.metafile.outputs)[0].inputs).map(([module, { bytesInOutput }]) => {
    const without = Buffer.concat([out.subarray(0, offset), out.subarray(offset + bytesInOutput)])
    offset += bytesInOutput
    return { module, bytes: bytesInOutput, gzip: full - gzipSize(without) }
  })
}

const modules = process.argv.includes('--analyze') ? await analyze() : undefined
if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify({ raw: bytes.length, gzip, brotli, budgetGzip: BUDGET_GZIP, ratio: Number(ratio.toFixed(3)), packs, modules }) + '\n')
} else {
  process.stdout.write(`widget.js: ${bytes.length} B raw, ${gzip} B gzip, ${brotli} B brotli, ${(ratio * 100).toFixed(1)}% of the ${BUDGET_GZIP} B gzip budget\n`)
  for (const p of packs) process.stdout.write(`  pack ${p.lang}: ${p.raw} B raw, ${p.gzip} B gzip, ${p.brotli} B brotli (fetched only by pages in that language)\n`)
  for (const m of modules ?? []) process.stdout.write(`  ${m.module.padEnd(26)} ${String(m.bytes).padStart(6)} B min ${String(m.gzip).padStart(6)} B gzip\n`)
}
process.exitCode = gzip <= BUDGET_GZIP ? 0 : 1
