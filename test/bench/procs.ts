// Contender processes: the built service or a baseline, each its own process, pinned where taskset exists.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { sourceUrlVariable } from '../../src/config.js'
import { SOURCE_IDS } from '../../src/domain/sources.js'
import { freePort } from '../support/ports.js'
import { ROOT } from '../support/process.js'
import { pinned } from './stats.js'

export { freePort }

export const SERVER_JS = join(ROOT, 'dist', 'server.js')

/**
 * The service's environment for a benchmark: the given state directory, every upstream pointed at a closed
 * loopback port (no poll may reach the network or change the snapshot), everything else at its default
 * except the REST rate limit, raised so that one load generator's address is not answered with 429s; the
 * limiter still runs on every request.
 */
export function serviceEnv (stateDir: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    FX_STATE_DIR: stateDir,
    FX_RATE_LIMIT_PER_MIN: '1000000000',
    ...Object.fromEntries(SOURCE_IDS.map((id) => [sourceUrlVariable(id), `http://127.0.0.1:9/${id}`])),
    FX_HISTORY_DAYS: '0',
    ...extra
  }
}

/** A private copy of a prepared state directory, removed with `cleanup`. */
export function stateCopy (from: string): { dir: string, cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fx-bench-state-'))
  cpSync(from, dir, { recursive: true })
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface Contender {
  child: ChildProcess
  origin: string
  /** Milliseconds from spawn until `readyPath` first answered 200. */
  readyMs: number
  stop: () => Promise<void>
}

/**
 * Spawns `node <args>` on `core` with its output discarded (a log sink that costs the contender its
 * writes, not the harness its reads) and waits, bounded, for a 200 on `readyPath`.
 */
export async function startContender (core: number, args: string[], env: Record<string, string>, port: number, readyPath: string, timeoutMs = 20_000): Promise<Contender> {
  const [cmd, argv] = pinned(core, process.execPath, args)
  const t0 = performance.now()
  const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-2000) })
  const exited = once(child, 'exit')
  const origin = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  const deadline = t0 + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}: ${stderr}`)
    const ok = await fetch(origin + readyPath, { signal: AbortSignal.timeout(1000) }).then(async (r) => { await r.arrayBuffer(); return r.status === 200 }, () => false)
    if (ok) return { child, origin, readyMs: performance.now() - t0, stop }
    if (performance.now() > deadline) {
      await stop()
      throw new Error(`${args.join(' ')}: no 200 on ${readyPath} within ${timeoutMs} ms: ${stderr}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
