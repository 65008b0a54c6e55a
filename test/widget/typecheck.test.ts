import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

/** The files a tsconfig checks, relative to the project. */
function checked (config: string): string[] {
  const out = execFileSync(process.execPath, [TSC, '-p', config, '--listFilesOnly'], { cwd: ROOT, encoding: 'utf8' })
  return out.split('\n').filter((f) => f !== '').map((f) => relative(ROOT, f))
}

function tsFiles (dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.startsWith('fixtures/') && !f.startsWith('artifacts/'))
    .map((f) => join(dir, f))
}

t.test('npm run typecheck covers every TypeScript file under src/ and test/, the widget with the DOM lib', async (t) => {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.typecheck ?? ''
  const configs = [...script.matchAll(/tsc -p (\S+)/g)].map((m) => m[1] as string)
  t.same(configs, ['tsconfig.test.json', 'src/widget/tsconfig.json'])
  const lists = configs.map(checked)
  const all = new Set(lists.flat())
  const missing = [...tsFiles('src'), ...tsFiles('test')].filter((f) => !all.has(f))
  t.same(missing, [], 'no file is left unchecked')
  const widget = lists[1] ?? []
  t.ok(widget.some((f) => f.endsWith('lib.dom.d.ts')), 'the widget sees the DOM')
  t.notOk(widget.some((f) => f.includes('@types/node')), 'and no Node types')
  t.ok(widget.includes('src/client/client.ts'), 'the client is checked against the DOM as well as against Node')
})

t.test('the server build has no DOM types and no widget code', async (t) => {
  const server = checked('tsconfig.json')
  t.notOk(server.some((f) => f.endsWith('lib.dom.d.ts')))
  t.notOk(server.some((f) => f.startsWith('src/widget/')))
})
