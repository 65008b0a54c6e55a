import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../support/process.js'
import { progress, record } from './report.js'
import type { Row } from './report.js'
import { bounded } from './scope.js'
import type { Scope } from './scope.js'
import { createScope } from './scope.js'

const FILE = 'test/sources/properties.test.ts'

/** Scenario 2: the property-based parser tests (fast-check), with more runs than `npm test` gives them. */
export async function properties ({ quick }: { quick: boolean }): Promise<Row[]> {
  const runs = quick ? 200 : 1000
  const started = Date.now()
  const row = (did: string, wrong: string, ok: boolean): Row[] => {
    progress(`${ok ? 'pass' : 'FAIL'} property-based parsing${ok ? '' : `: ${wrong}`}`)
    return [record({
      scenario: 'property-based parsing',
      injected: 'random and mutated payloads for every adapter (fast-check)',
      often: `FC_RUNS=${runs} per property`,
      did,
      wrong,
      ok,
      ms: Date.now() - started
    })]
  }
  if (!existsSync(join(ROOT, FILE))) return row('not run', `${FILE} does not exist`, false)
  const scope = createScope()
  try {
    const { code, output } = await runTap(scope, runs, quick ? 90_000 : 240_000)
    const summary = output.split('\n').filter((l) => /^#\s*(pass|fail|todo|skip)\b|^# \{|\b(pass|fail)(ed)?\s*:?\s*\d+/i.test(l)).slice(-4).join('; ')
    const failures = output.split('\n').filter((l) => /^\s*not ok\b/.test(l)).slice(0, 3).join('; ')
    return row(`tap exited ${code}${summary !== '' ? `: ${summary}` : ''}`, code === 0 ? 'none' : failures !== '' ? failures : output.trim().split('\n').slice(-3).join('; '), code === 0)
  } finally {
    await scope.close()
  }
}

async function runTap (scope: Scope, runs: number, limitMs: number): Promise<{ code: number | string, output: string }> {
  // more runs take longer than tap's default per-file timeout: the scenario's own bound is the limit
  const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'), '--disable-coverage', '--reporter=tap', `--timeout=${Math.ceil(limitMs / 1000)}`, FILE], {
    cwd: ROOT,
    env: { ...process.env, FC_RUNS: String(runs) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  scope.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c.toString() })
  child.stderr.on('data', (c: Buffer) => { output += c.toString() })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')))
  try {
    return { code: await bounded(exited, limitMs, 'the property tests'), output }
  } catch {
    child.kill('SIGKILL')
    return { code: `killed after ${limitMs / 1000} s`, output }
  }
}
