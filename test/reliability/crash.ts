import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { createEmbeddedStore } from '../../src/store/embedded.js'
import type { StoreLog } from '../../src/store/store.js'
import { ROOT } from '../support/process.js'
import { details, progress, summarise } from './report.js'
import type { Row } from './report.js'
import { bounded, createScope, tick } from './scope.js'
import type { Scope } from './scope.js'

/**
 * The embedded-engine writer child (test/support/embedded-writer.ts) bundled into one plain file, so that
 * each of the hundreds of short-lived children starts in milliseconds instead of loading a TypeScript loader.
 */
async function bundleWriter (scope: Scope): Promise<string> {
  const outfile = join(scope.tempDir('writer'), 'writer.mjs')
  await build({
    entryPoints: [join(ROOT, 'test', 'support', 'embedded-writer.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent'
  })
  return outfile
}

interface Kill { reported: number, loaded: number | undefined, firstSeq: number, setAside: boolean }

/** Starts the writer on `dir`, lets it publish for a random moment, kills it with SIGKILL, and reads what it confirmed. */
async function killOnce (scope: Scope, writer: string, dir: string, random: () => number): Promise<{ reported: number, firstSeq: number }> {
  const child = spawn(process.execPath, [writer, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  scope.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let buffered = ''
  const seqs: number[] = []
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    buffered += c.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const l of lines) seqs.push(Number(l))
  })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const closed = once(child, 'close')
  const firstWrite = new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve())
    child.once('exit', () => reject(new Error(`writer exited before its first write: ${stderr.trim().split('\n').slice(-2).join(' ')}`)))
  })
  await bounded(firstWrite, 15_000, 'the writer\'s first write')
  // a random moment within the next few writes (each is a temp file, fsync, rename and directory fsync)
  await tick(Math.floor(random() * 40))
  child.kill('SIGKILL')
  await bounded(closed, 5000, 'the killed writer\'s exit')
  return { reported: seqs.length > 0 ? Math.max(...seqs) : 0, firstSeq: seqs[0] ?? 0 }
}

/** Scenario 4a: kill -9 during persistence, over and over; each time the state must load, never older than confirmed. */
async function embeddedKills (quick: boolean): Promise<Row> {
  const started = Date.now()
  const scope = createScope()
  const rounds = quick ? 25 : 200
  const problems: string[] = []
  const kills: Kill[] = []
  try {
    const writer = await bundleWriter(scope)
    const dir = scope.tempDir('state')
    let seed = 0x5eed
    const random = (): number => { seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31; return seed / 2 ** 31 }
    let loadedBefore = 0
    for (let i = 0; i < rounds; i++) {
      const { reported, firstSeq } = await killOnce(scope, writer, dir, random)
      let setAside = false
      const log: StoreLog = { info () {}, warn (_o, msg) { if (/set aside/.test(msg)) setAside = true }, error () {} }
      const store = await createEmbeddedStore({ dir, quote: 'USD', log })
      const loaded = store.snapshot()?.seq
      const history = store.history('KZT').length
      await store.close()
      kills.push({ reported, loaded, firstSeq, setAside })
      if (setAside || readdirSync(dir).some((f) => f.includes('corrupt'))) problems.push(`kill ${i + 1}: the state file was set aside`)
      if (loaded === undefined) problems.push(`kill ${i + 1}: no snapshot loaded`)
      else if (loaded < reported) problems.push(`kill ${i + 1}: loaded seq ${loaded}, older than the confirmed ${reported}`)
      if (history === 0) problems.push(`kill ${i + 1}: history empty after loading`)
      if (firstSeq <= loadedBefore) problems.push(`kill ${i + 1}: the restarted writer published seq ${firstSeq} after ${loadedBefore} was loaded`)
      loadedBefore = loaded ?? loadedBefore
    }
  } catch (err) {
    problems.push(`runner: ${(err as Error).message}`)
  } finally {
    await scope.close()
  }
  const ahead = kills.filter((k) => k.loaded !== undefined && k.loaded > k.reported).length
  details(problems)
  return {
    scenario: 'crash: kill -9 during persistence (embedded)',
    injected: 'SIGKILL at a random moment of a publish loop (temp file, fsync, rename, directory fsync)',
    often: `${kills.length} kills`,
    did: `state loaded after every kill; seq never behind the last confirmed write (${ahead} times one write ahead, confirmed on disk before it was reported); last seq ${kills.at(-1)?.loaded ?? '—'}`,
    wrong: summarise(problems),
    ok: problems.length === 0 && kills.length === rounds,
    ms: Date.now() - started
  }
}

/** Scenario 4a: crashes of the embedded engine (the Redis failures are their own scenario). */
export async function crashes ({ quick }: { quick: boolean }): Promise<Row[]> {
  const row = await embeddedKills(quick)
  progress(`${row.ok ? 'pass' : 'FAIL'} ${row.scenario}${row.ok ? '' : `: ${row.wrong}`}`)
  return [row]
}
