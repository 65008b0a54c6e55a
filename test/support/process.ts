import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * Keeps a child process out of the coverage report. tap records coverage in every child it spawns; a child that runs
 * src/ through `--import tsx` compiles each file differently from the test runner's loader, and the report, which
 * merges one file's coverage by URL before applying source maps, turns the two into nonsense (covered lines counted
 * as missed). Code that runs in such a child does not count toward coverage.
 */
export const NO_COVERAGE = { _TAPJS_PROCESSINFO_COVERAGE_: '0' }

export interface ServiceProcess {
  child: ChildProcess
  url: string
  /** Every log line printed so far. */
  logs: string[]
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | string>
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** Starts the built service (`node dist/server.js`) and resolves once it listens; killed when the test ends. */
export async function startService (t: Teardown, env: Record<string, string>, timeoutMs = 15_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'server.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string)
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const logs: string[] = []
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not listen within ${timeoutMs} ms:\n${logs.join('\n')}`)), timeoutMs)
    const onLine = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n').filter((l) => l !== '')) {
        logs.push(line)
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
        if (m?.[1] !== undefined) { clearTimeout(timer); resolve(m[1]) }
      }
    }
    child.stdout.on('data', onLine)
    child.stderr.on('data', onLine)
    exited.then((code) => { clearTimeout(timer); reject(new Error(`service exited with ${code}:\n${logs.join('\n')}`)) }, reject)
  })
  return { child, url, logs, exited }
}
