import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { RatesError } from '../domain/errors.js'
import { FixingSchema, ObservationSchema, SnapshotSchema } from '../domain/rate.js'
import type { Snapshot } from '../domain/rate.js'
import { ALWAYS_LEADER, applyPublish, createListeners } from './memory.js'
import type { StoreState } from './memory.js'
import type { Store, StoreLog } from './store.js'

export const STATE_FILE = 'state.json'
const FORMAT = 'fx-ticker/state'
const TEMP_PREFIX = `${STATE_FILE}.tmp-`

const StateFileSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  snapshot: SnapshotSchema.nullable(),
  history: z.record(z.string(), z.array(FixingSchema)),
  observations: z.array(ObservationSchema)
})

export interface EmbeddedStoreOptions {
  /** FX_STATE_DIR; created when missing. */
  dir: string
  quote: string
  log?: StoreLog
  now?: () => Date
}

const silent: StoreLog = { info () {}, warn () {}, error () {} }

/**
 * The default engine: the memory engine plus one JSON state file replaced atomically
 * (temp file, fsync, rename, fsync of the directory), so a restart serves the last snapshot at once.
 */
export async function createEmbeddedStore ({ dir, quote, log = silent, now = () => new Date() }: EmbeddedStoreOptions): Promise<Store> {
  const file = join(dir, STATE_FILE)
  await mkdir(dir, { recursive: true })
  await removeTemps(dir)
  let state = await readState(file, quote, log, now)
  const listeners = createListeners()
  let writeError: string | undefined
  let tempCount = 0

  // Writes run one at a time; a queued write takes the newest state, so a burst of publishes
  // coalesces while each publish still resolves only once a file holding its state is durable.
  let chain: Promise<void> = Promise.resolve()
  let version = 0
  let written = 0
  const persist = (): Promise<void> => {
    const target = ++version
    const run = chain.then(async () => {
      if (written >= target) return
      const covering = version
      const temp = join(dir, `${TEMP_PREFIX}${process.pid}-${++tempCount}`)
      try {
        await writeDurably(dir, file, temp, serialise(state))
      } catch (err) {
        await unlink(temp).catch(() => {})
        if (writeError === undefined) log.error({ err, file }, 'state write failed')
        writeError = `state write failed: ${(err as Error).message}`
        throw new RatesError('RATES_STORE', `could not persist the state under ${dir}`, 500, { cause: err })
      }
      if (writeError !== undefined) log.info({ file }, 'state write recovered')
      writeError = undefined
      written = covering
    })
    chain = run.catch(() => {})
    return run
  }

  return {
    snapshot: () => state.snapshot,
    history: (base) => state.history[base] ?? [],
    observations: () => state.observations,
    async publish (input) {
      const previous = state.snapshot
      state = applyPublish(state, input, quote, now())
      const snapshot = state.snapshot as Snapshot
      // Clients are told either way: a failing disk must not freeze the ticker; health says the state is not durable.
      try {
        await persist()
      } finally {
        listeners.emit(snapshot, previous)
      }
      return snapshot
    },
    async saveObservations (observations) {
      state = { ...state, observations }
      await persist()
    },
    subscribe: listeners.add,
    health: () => (writeError === undefined ? { ok: true, reasons: [] } : { ok: false, reasons: [writeError] }),
    leadership: ALWAYS_LEADER,
    async close () {
      await chain
    }
  }
}

function serialise (state: StoreState): string {
  return JSON.stringify({
    format: FORMAT,
    version: 1,
    snapshot: state.snapshot ?? null,
    history: state.history,
    observations: state.observations
  })
}

async function writeDurably (dir: string, file: string, temp: string, body: string): Promise<void> {
  const handle = await open(temp, 'w', 0o644)
  try {
    await handle.writeFile(body, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temp, file)
  // the rename itself is only durable once the directory entry is flushed
  const dirHandle = await open(dir, 'r')
  try {
    await dirHandle.sync()
  } finally {
    await dirHandle.close()
  }
}

/** Temp files left by a process killed mid-write are never the state; drop them. */
async function removeTemps (dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith(TEMP_PREFIX)) await unlink(join(dir, name)).catch(() => {})
  }
}

const EMPTY: StoreState = { snapshot: undefined, history: {}, observations: [] }

/** Reads the state file back; anything unreadable is moved aside so it can be inspected, and the store starts empty. */
async function readState (file: string, quote: string, log: StoreLog, now: () => Date): Promise<StoreState> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY
    throw new RatesError('RATES_STORE', `could not read ${file}`, 500, { cause: err })
  }
  let problem: string
  try {
    const parsed = StateFileSchema.safeParse(JSON.parse(text))
    if (parsed.success && (parsed.data.snapshot === null || parsed.data.snapshot.quote === quote)) {
      const { snapshot, history, observations } = parsed.data
      return { snapshot: snapshot ?? undefined, history, observations }
    }
    problem = parsed.success
      ? `snapshot quoted in ${parsed.data.snapshot?.quote ?? '?'}, expected ${quote}`
      : parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
  } catch (err) {
    problem = `not JSON: ${(err as Error).message}`
  }
  const aside = `${file}.corrupt-${now().toISOString().replace(/[:.]/g, '-')}`
  try {
    await rename(file, aside)
    log.warn({ file, movedTo: aside, problem }, 'unreadable state file set aside; starting empty')
  } catch (err) {
    log.warn({ err, file, problem }, 'unreadable state file could not be set aside; starting empty')
  }
  return EMPTY
}
