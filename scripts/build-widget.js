// Bundles src/widget/index.ts into dist/widget/: widget.js (the short-lived alias), widget.<hash>.js
// (immutable) and manifest.json (hash, sizes) that src/routes/widget.ts serves from.
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, 'dist', 'widget')
export const BUDGET_GZIP = 6144

// written next to the target and renamed, so a server or a parallel test never reads half a file
function writeAtomic (file, data) {
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, data)
  renameSync(tmp, file)
}

/** Builds the widget and returns its manifest. */
export async function buildWidget () {
  const result = await build({
    entryPoints: [join(ROOT, 'src', 'widget', 'index.ts')],
    tsconfig: join(ROOT, 'src', 'widget', 'tsconfig.json'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome100', 'firefox100', 'safari15.4'],
    legalComments: 'none',
    charset: 'utf8',
    write: false
  })
  const bytes = Buffer.from(result.outputFiles[0].contents)
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12)
  const manifest = { file: `widget.${hash}.js`, hash, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, budgetGzip: BUDGET_GZIP }
  mkdirSync(OUT, { recursive: true })
  for (const old of readdirSync(OUT)) {
    if (/^widget\.[0-9a-f]+\.js$/.test(old) && old !== manifest.file) rmSync(join(OUT, old), { force: true })
  }
  writeAtomic(join(OUT, manifest.file), bytes)
  writeAtomic(join(OUT, 'widget.js'), bytes)
  writeAtomic(join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  return manifest
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const m = await buildWidget()
  process.stdout.write(`dist/widget/${m.file}: ${m.bytes} B, ${m.gzip} B gzip (budget ${m.budgetGzip} B)\n`)
}
