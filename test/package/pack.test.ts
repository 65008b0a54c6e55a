import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { build } from '../support/build.js'
import { ROOT } from '../support/process.js'
import { fiveRates, publishInput } from '../support/snapshot.js'

const run = promisify(execFile)
// packing builds from scratch (tsc, declarations, widget) on a shared machine
t.setTimeout(600_000)

interface Lock { packages: Record<string, { version?: string, dev?: boolean, devOptional?: boolean } & Record<string, unknown>> }

const CONSUMER_TS = `import WebSocket from 'ws'
import { createTickerClient } from 'fx-ticker/client'
import type { TickerClient, TickerStatus } from 'fx-ticker/client'
import { createTickerClient as fromRoot } from 'fx-ticker'

if (fromRoot !== createTickerClient) throw new Error('the package root and ./client export different clients')
const statuses: Array<TickerStatus['connection']> = []
const client: TickerClient = createTickerClient({
  url: process.argv[2] ?? '',
  symbols: ['KZT', 'UZS'],
  WebSocket,
  onStatus: (status) => { statuses.push(status.connection) },
  onSnapshot (rates, seq) {
    const prices: number[] = rates.map((r) => r.price)
    process.stdout.write(JSON.stringify({ seq, pairs: rates.map((r) => r.pair), prices, held: client.rates().length, statuses }) + '\\n')
    client.close()
  }
})
`
// a wrong option must not type-check: proves the declarations are read, not an implicit any
const MISUSE_TS = `import { createTickerClient } from 'fx-ticker/client'
createTickerClient({ url: 42, symbols: 'KZT' })
`

t.test('the packed tarball installs in a fresh project and its typed client talks to a live service', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fx-pack-test-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))

  // a clean checkout of the package (no dist/), so packing cannot pick up stale output or disturb the repo's
  const checkout = join(work, 'checkout')
  for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.client.json', 'LICENSE', 'README.md', 'src', 'scripts']) {
    cpSync(join(ROOT, entry), join(checkout, entry), { recursive: true })
  }
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(checkout, 'node_modules'))
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: checkout, maxBuffer: 16 * 1024 * 1024 })
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string, files: Array<{ path: string }> }>
  const files = (info?.files ?? []).map((f) => f.path)
  for (const f of ['package.json', 'LICENSE', 'README.md', 'dist/client/client.js', 'dist/client/client.d.ts', 'dist/client/backoff.d.ts', 'dist/domain/rate.d.ts', 'dist/server.js', 'dist/widget/manifest.json']) {
    t.ok(files.includes(f), `ships ${f}`)
  }
  t.same(files.filter((f) => f.endsWith('.map') || f.startsWith('src/') || f.startsWith('test/') || f.startsWith('node_modules/')), [], 'no sources, maps or tests')
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string, version: string, private?: boolean, dependencies: Record<string, string>, devDependencies: Record<string, string>, engines: Record<string, string> }
  t.equal(manifest.private, undefined, 'publishable')
  const tgz = join(work, info?.filename ?? '')

  // a fresh project, installed offline from npm's cache: the lockfile pins what the repository's pins
  const consumer = join(work, 'consumer')
  mkdirSync(join(consumer, 'src'), { recursive: true })
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock
  const wanted = { 'fx-ticker': `file:../${info?.filename ?? ''}`, ws: manifest.dependencies.ws as string, '@types/ws': manifest.devDependencies['@types/ws'] as string, '@types/node': manifest.devDependencies['@types/node'] as string }
  const kept = Object.entries(lock.packages).filter(([path, p]) => path !== '' && ((!(p.dev ?? false) && !(p.devOptional ?? false)) || /^node_modules\/(@types\/(ws|node)|undici-types)$/.test(path)))
  const packages = {
    '': { name: 'consumer', dependencies: wanted },
    'node_modules/fx-ticker': {
      version: manifest.version,
      resolved: wanted['fx-ticker'],
      integrity: `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`,
      license: 'MIT',
      dependencies: manifest.dependencies,
      engines: manifest.engines
    },
    ...Object.fromEntries(kept.map(([path, p]) => [path, { ...p, dev: undefined, devOptional: undefined }]))
  }
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: wanted }, null, 2))
  writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2))
  await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: consumer })

  writeFileSync(join(consumer, 'src', 'main.ts'), CONSUMER_TS)
  writeFileSync(join(consumer, 'src', 'misuse.ts'), MISUSE_TS)
  const compilerOptions = { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'], skipLibCheck: false, outDir: 'out', rootDir: 'src' }
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['src/main.ts'] }))
  writeFileSync(join(consumer, 'tsconfig.misuse.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, noEmit: true }, files: ['src/misuse.ts'] }))
  const tsc = join(realpathSync(join(ROOT, 'node_modules')), 'typescript', 'bin', 'tsc')
  await t.resolves(run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer }), 'the consumer type-checks against the shipped declarations')
  const misuse = await run(process.execPath, [tsc, '-p', 'tsconfig.misuse.json'], { cwd: consumer }).then(() => '', (err: { stdout?: string }) => err.stdout ?? 'failed')
  t.match(misuse, /src\/misuse\.ts.*error TS2322/, 'and a wrong option does not')

  const app = await build(t)
  const published = await app.store.publish(publishInput(fiveRates()))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const out = await run(process.execPath, [join('out', 'main.js'), `ws://127.0.0.1:${port}/v1/ws`], { cwd: consumer, timeout: 30_000 })
  t.match(JSON.parse(out.stdout) as unknown, { seq: published.seq, pairs: ['KZT/USD', 'UZS/USD'], held: 2, statuses: ['connecting', 'open'] }, 'a snapshot of the asked symbols')
})
