// Bundles src/widget/index.ts into dist/widget/: widget.js (the short-lived alias), widget.<hash>.js
// (immutable), one widget.i18n.<lang>.<hash>.json per language pack (src/widget/packs.ts), the demo
// page's charts.js and charts.<hash>.js (src/widget/charts.ts) and manifest.json (hashes, sizes) that
// src/routes/widget.ts serves from.
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, 'dist', 'widget')
/** The script, all a page loads besides a language pack, gzip -9: the design's budget (shared/DESIGN.md). */
export const BUDGET_GZIP = 6144

export const gzipSize = (bytes) => gzipSync(bytes, { level: 9 }).length
export const brotliSize = (bytes) => brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length
const sha = (bytes) => createHash('sha256').update(bytes).digest('hex')

// written next to the target and renamed, so a server or a parallel test never reads half a file
function writeAtomic (file, data) {
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, data)
  renameSync(tmp, file)
}

/** The language packs as the JSON bytes served for each language, and one hash over all of them. */
export async function buildPacks () {
  const out = await build({ entryPoints: [join(ROOT, 'src', 'widget', 'packs.ts')], format: 'esm', write: false, charset: 'utf8' })
  const { PACKS } = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].contents).toString('base64')}`)
  const files = Object.fromEntries(Object.entries(PACKS).map(([lang, words]) => [lang, Buffer.from(JSON.stringify(words.split('|')))]))
  return { files, hash: sha(Buffer.concat(Object.values(files))).slice(0, 8) }
}

// names of options and fields inside the bundle (the client's options and status, the widget's own
// records) that are neither on the wire nor in the DOM: shortened to keep the widget within its budget.
// A wire or DOM property named here would break the widget, which the browser tests would show.
const INTERNAL = /^(connection|feed|retryInMs|heartbeatTimeoutMs|initialMs|maxMs|factor|onStatus|onMessage|backoff|words|locale|spark|html|text|flip|link|dateOf|nameOf)$/

/** The esbuild options of the bundle; `i18n` names the packs the widget may fetch. */
export function bundleOptions (i18n) {
  return {
    entryPoints: [join(ROOT, 'src', 'widget', 'index.ts')],
    tsconfig: join(ROOT, 'src', 'widget', 'tsconfig.json'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome100', 'firefox100', 'safari15.4'],
    legalComments: 'none',
    charset: 'utf8',
    define: { I18N: JSON.stringify([i18n.hash, i18n.languages]) },
    mangleProps: INTERNAL,
    write: false
  }
}

/** Builds the widget and its language packs and returns the manifest. */
export async function buildWidget () {
  const packs = await buildPacks()
  const i18n = { hash: packs.hash, languages: Object.keys(packs.files) }
  const result = await build(bundleOptions(i18n))
  const bytes = Buffer.from(result.outputFiles[0].contents)
  const hash = sha(bytes).slice(0, 12)
  const charts = await build({ ...bundleOptions(i18n), entryPoints: [join(ROOT, 'src', 'widget', 'charts.ts')], mangleProps: undefined })
  const chartBytes = Buffer.from(charts.outputFiles[0].contents)
  const chartHash = sha(chartBytes).slice(0, 12)
  const manifest = {
    file: `widget.${hash}.js`,
    hash,
    bytes: bytes.length,
    gzip: gzipSize(bytes),
    brotli: brotliSize(bytes),
    budgetGzip: BUDGET_GZIP,
    charts: { file: `charts.${chartHash}.js`, hash: chartHash },
    i18n: { hash: packs.hash, files: Object.fromEntries(Object.keys(packs.files).map((lang) => [lang, `widget.i18n.${lang}.${packs.hash}.json`])) }
  }
  mkdirSync(OUT, { recursive: true })
  const current = new Set([manifest.file, manifest.charts.file, ...Object.values(manifest.i18n.files)])
  for (const old of readdirSync(OUT)) {
    if (/^(widget|charts)\.(\w+\.){0,2}[0-9a-f]+\.js(on)?$/.test(old) && !current.has(old)) rmSync(join(OUT, old), { force: true })
  }
  for (const [lang, json] of Object.entries(packs.files)) writeAtomic(join(OUT, manifest.i18n.files[lang]), json)
  writeAtomic(join(OUT, manifest.file), bytes)
  writeAtomic(join(OUT, 'widget.js'), bytes)
  writeAtomic(join(OUT, manifest.charts.file), chartBytes)
  writeAtomic(join(OUT, 'charts.js'), chartBytes)
  writeAtomic(join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  return manifest
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const m = await buildWidget()
  process.stdout.write(`dist/widget/${m.file}: ${m.bytes} B, ${m.gzip} B gzip, ${m.brotli} B brotli (budget ${m.budgetGzip} B gzip)\n`)
}
