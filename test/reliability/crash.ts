import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { createEmbeddedStore } from '../../src/store/embedded.js'
import type { StoreLog } from '../../src/store/store.js'
import { ROOT } from '../support/process.js'
import { LEAK } from './check.js'
import { details, progress, record, summarise } from './report.js'
import type { Row } from './report.js'
import { launch, rates, ready } from './service.js'
import { bounded, createScope, ms, plusDays, tick, today, waitFor } from './scope.js'
import type { Scope } from './scope.js'
import { settle } from './session.js'
import { startUpstream } from './upstream.js'

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

const INTERVAL_MS = 300
/** A day switch is polled, reconciled and published; a failed write is retried with backoff. */
const PUBLISH_MS = 3 * (2 * 1000 + INTERVAL_MS) + 3000
const RETRY_MS = 15_000

/** The seq in the state file on disk, if it can be read. */
function seqOnDisk (dir: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { snapshot?: { seq?: number } }).snapshot?.seq
  } catch {
    return undefined
  }
}

/** Scenario 4a': the state file cannot be written (EISDIR), then can again: readiness must follow, by itself. */
async function failedWrites (): Promise<Row> {
  const started = Date.now()
  const scope = createScope()
  const problems: string[] = []
  let did = ''
  try {
    const up = await startUpstream(scope, { date: plusDays(today(), -10), recorded: '2025-11-25', dripMs: 250, maxBytes: 2_000_000 })
    const dir = scope.tempDir('state')
    const svc = await launch(scope, { ...up.env, FX_STATE_DIR: dir, FX_POLL_INTERVAL_MS: String(INTERVAL_MS), FX_STALE_AFTER_MS: String(3650 * 86_400_000) })
    const first = await waitFor(async () => { const s = (await rates(svc)).body; return s?.rates?.length === 5 && seqOnDisk(dir) === s.seq && s.seq }, PUBLISH_MS + 10_000, 100)
    if (first === undefined) throw new Error('no first snapshot on disk')
    // the next write cannot replace a directory
    rmSync(join(dir, 'state.json'))
    mkdirSync(join(dir, 'state.json'))
    up.advance()
    const broke = Date.now()
    const failing = await waitFor(async () => { const r = await ready(svc); return r.status === 503 && r.body }, PUBLISH_MS, 100)
    if (failing === undefined) problems.push(`/readyz stayed 200 ${ms(PUBLISH_MS)} after a publish could not be written`)
    for (const reason of failing === undefined ? [] : failing.reasons) if (LEAK.test(reason)) problems.push(`/readyz leaks internals: "${reason}"`)
    // the day's publishes settle while the disk still fails: from here on, only a retry can write
    const served = (await settle(svc, up, () => true, PUBLISH_MS + 10_000))?.seq
    if (served === undefined) problems.push('the snapshot did not settle')
    rmSync(join(dir, 'state.json'), { recursive: true, force: true })
    const t0 = Date.now()
    // exponential backoff: the next retry comes within about as long again as the disk has failed so far
    const boundMs = Math.max(RETRY_MS, 2 * (t0 - broke) + 5000)
    const healed = await waitFor(async () => (await ready(svc)).status === 200 && served !== undefined && (seqOnDisk(dir) ?? 0) >= served, boundMs, 100)
    if (healed === undefined) problems.push(`${ms(boundMs)} after the disk recovered: /readyz ${(await ready(svc)).status}, seq on disk ${seqOnDisk(dir) ?? 'none'} while serving ${served ?? '—'}`)
    did = `not ready while the write failed; ${healed === undefined ? 'never' : `written and ready again ${ms(Date.now() - t0)}`} after the disk recovered`
  } catch (err) {
    problems.push(`runner: ${(err as Error).message}`)
  } finally {
    await scope.close()
  }
  details(problems)
  return {
    scenario: 'crash: state write fails, disk recovers',
    injected: 'state.json replaced by a directory (EISDIR) during a publish, then removed',
    often: 'once',
    did,
    wrong: summarise(problems),
    ok: problems.length === 0,
    ms: Date.now() - started
  }
}

/** Scenario 4a: crashes and write failures of the embedded engine (the Redis failures are their own scenario). */
export async function crashes ({ quick }: { quick: boolean }): Promise<Row[]> {
  const rows: Row[] = []
  for (const run of [async () => await embeddedKills(quick), failedWrites]) {
    const row = record(await run())
    progress(`${row.ok ? 'pass' : 'FAIL'} ${row.scenario}${row.ok ? '' : `: ${row.wrong}`}`)
    rows.push(row)
  }
  return rows
}
