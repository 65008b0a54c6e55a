import { readFileSync, readdirSync } from 'node:fs'
import { join, posix, relative } from 'node:path'
import t from 'tap'
import { ROOT } from '../support/process.js'

/** Docker's .dockerignore rule: the last pattern matching the path or one of its parent folders decides. */
function ignored (rules: string[], path: string): boolean {
  let out = false
  for (const rule of rules) {
    const negate = rule.startsWith('!')
    const pattern = posix.normalize((negate ? rule.slice(1) : rule).replace(/^\/+/, ''))
    const re = new RegExp(`^${pattern.split(/(\*\*|\*|\?)/).map((p) => p === '**' ? '.*' : p === '*' ? '[^/]*' : p === '?' ? '[^/]' : p.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('')}$`)
    const parts = path.split('/')
    if (parts.some((_p, i) => re.test(parts.slice(0, i + 1).join('/')))) out = !negate
  }
  return out
}

function files (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => d.isDirectory() ? files(join(dir, d.name)) : [relative(ROOT, join(dir, d.name))])
}

t.test('the image build context has the recorded payloads the demo replays, and no tests', async (t) => {
  const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  const recorded = files(join(ROOT, 'test', 'fixtures', 'upstream'))
  t.ok(recorded.length > 30)
  for (const file of recorded) t.notOk(ignored(rules, file), `${file} is sent to the build`)
  for (const file of ['test/support/build.ts', 'test/demo/demo.test.ts', 'node_modules/x/index.js', 'dist/server.js', '.git/HEAD']) {
    t.ok(ignored(rules, file), `${file} is not`)
  }
  for (const file of ['src/server.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build-widget.js']) {
    t.notOk(ignored(rules, file), `${file} is sent to the build`)
  }
})

t.test('the runtime image puts them where dist/demo/demo.js looks for them', async (t) => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))
  const workdir = /^WORKDIR (\S+)$/m.exec(runtime)?.[1] as string
  const demo = readFileSync(join(ROOT, 'src', 'demo', 'demo.ts'), 'utf8')
  t.match(demo, "join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'upstream')")
  const expected = posix.join(workdir, 'dist', 'demo', '..', '..', 'test', 'fixtures', 'upstream')
  const copy = /^COPY (?:--\S+ )*test\/fixtures\/upstream (\S+)$/m.exec(runtime)
  t.ok(copy !== null, 'the runtime stage copies test/fixtures/upstream')
  t.equal(posix.resolve(workdir, copy?.[1] ?? ''), expected)
  t.match(runtime, /^COPY --from=build \S+ \/app\/dist \.\/dist$/m, 'next to dist/')
})
