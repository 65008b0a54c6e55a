import { open, readFile, readdir, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { RatesError } from '../domain/errors.js'
import { EMPTY_STATE } from './state.js'
import type { StoreState } from './state.js'
import type { StoreLog } from './store.js'
import { isRecord, salvageState } from './validate.js'

export const STATE_FILE = 'state.json'
const FORMAT = 'fx-ticker/state'
/** 2 added the archive progress and each fixing's sources; a version 1 file is read as one with neither. */
const VERSION = 2
const TEMP_PREFIX = `${STATE_FILE}.tmp-`
/** How many dropped entries one log line names; the count says the rest. */
const DROPPED_LOGGED = 20

export function serialise (state: StoreState): string {
  return JSON.stringify({
    format: FORMAT,
    version: VERSION,
    snapshot: state.snapshot ?? null,
    history: state.history,
    observations: state.observations,
    archive: state.archive
  })
}

/** Temp file, fsync, rename, fsync of the directory: the file is always either the old or the new state. */
export async function writeDurably (dir: string, file: string, temp: string, body: string): Promise<void> {
  try {
    const handle = await open(temp, 'w', 0o644)
    try {
      await handle.writeFile(body, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, file)
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw err
  }
  // the rename itself is only durable once the directory entry is flushed
  const dirHandle = await open(dir, 'r')
  try {
    await dirHandle.sync()
  } finally {
    await dirHandle.close()
  }
}

export function tempName (dir: string, n: number): string {
  return join(dir, `${TEMP_PREFIX}${process.pid}-${n}`)
}

/** Temp files left by a process killed mid-write are never the state; drop them. */
export async function removeTemps (dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith(TEMP_PREFIX)) await unlink(join(dir, name)).catch(() => {})
  }
}

/** Why a parsed file is not ours at all, or undefined when it is (its entries may still be invalid). */
function foreign (file: unknown, quote: string): string | undefined {
  if (!isRecord(file)) return 'not a JSON object'
  if (file.format !== FORMAT) return `format is ${JSON.stringify(file.format)?.slice(0, 40)}, expected ${FORMAT}`
  if (file.version !== 1 && file.version !== VERSION) return `version is ${JSON.stringify(file.version)?.slice(0, 20)}, expected 1 or ${VERSION}`
  const snapshotQuote = isRecord(file.snapshot) ? file.snapshot.quote : undefined
  // every number in it is in another currency: nothing is worth keeping
  if (typeof snapshotQuote === 'string' && snapshotQuote !== quote) return `snapshot quoted in ${snapshotQuote.slice(0, 8)}, expected ${quote}`
  return undefined
}

/**
 * Reads the state file back. A file that is not JSON or not ours is moved aside for inspection and the store
 * starts empty; in one of ours, invalid entries are dropped one by one and named in the log.
 */
export async function readState (file: string, quote: string, log: StoreLog, now: () => Date): Promise<StoreState> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_STATE
    throw new RatesError('RATES_STORE', `could not read ${file}`, 500, { cause: err })
  }
  let problem: string | undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
    problem = foreign(parsed, quote)
  } catch (err) {
    problem = `not JSON: ${(err as Error).message}`
  }
  if (problem === undefined) {
    const { state, dropped } = salvageState(parsed as Record<string, unknown>)
    if (dropped.length > 0) {
      log.warn({ file, dropped: dropped.slice(0, DROPPED_LOGGED), droppedCount: dropped.length }, 'invalid entries dropped from the state file')
    }
    return state
  }
  const aside = `${file}.corrupt-${now().toISOString().replace(/[:.]/g, '-')}`
  try {
    await rename(file, aside)
    log.warn({ file, movedTo: aside, problem }, 'unreadable state file set aside; starting empty')
  } catch (err) {
    log.warn({ err, file, problem }, 'unreadable state file could not be set aside; starting empty')
  }
  return EMPTY_STATE
}
