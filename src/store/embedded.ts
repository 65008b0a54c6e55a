import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { RatesError } from '../domain/errors.js'
import type { Snapshot } from '../domain/rate.js'
import { ALWAYS_LEADER, applyPublish, createListeners } from './memory.js'
import { createRetryingWriter } from './retrying-writer.js'
import { readState, removeTemps, serialise, STATE_FILE, tempName, writeDurably } from './state-file.js'
import type { Store, StoreLog } from './store.js'
import { checkObservations } from './validate.js'

export { STATE_FILE }

export interface EmbeddedStoreOptions {
  /** FX_STATE_DIR; created when missing. */
  dir: string
  quote: string
  log?: StoreLog
  now?: () => Date
  /** A failed write is retried after retryMinMs (default 100), doubling up to retryMaxMs (default 30 s). */
  retryMinMs?: number
  retryMaxMs?: number
}

const silent: StoreLog = { info () {}, warn () {}, error () {} }

/** The public reason while the file lags memory; the path and the error go to the log. */
export const NOT_PERSISTED = 'state not persisted'

/**
 * The default engine: the memory engine plus one JSON state file replaced atomically
 * (temp file, fsync, rename, fsync of the directory), so a restart serves the last snapshot at once.
 */
export async function createEmbeddedStore (options: EmbeddedStoreOptions): Promise<Store> {
  const { dir, quote, log = silent, now = () => new Date(), retryMinMs = 100, retryMaxMs = 30_000 } = options
  const file = join(dir, STATE_FILE)
  await mkdir(dir, { recursive: true })
  await removeTemps(dir)
  let state = await readState(file, quote, log, now)
  const listeners = createListeners()
  let temps = 0

  // Writes run one at a time and take the newest state, so a burst of publishes coalesces while each
  // publish still resolves only once a file holding its state is durable; a failed write is retried.
  const writer = createRetryingWriter({
    write: async () => { await writeDurably(dir, file, tempName(dir, ++temps), serialise(state)) },
    retryMinMs,
    retryMaxMs,
    log,
    context: { file }
  })
  const persist = async (): Promise<void> => {
    try {
      await writer.changed()
    } catch (err) {
      throw new RatesError('RATES_STORE', 'could not persist the state; retrying', 500, { cause: err })
    }
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
      checkObservations(observations)
      state = { ...state, observations }
      await persist()
    },
    subscribe: listeners.add,
    health: () => (writer.behind() ? { ok: false, reasons: [NOT_PERSISTED] } : { ok: true, reasons: [] }),
    leadership: ALWAYS_LEADER,
    close: writer.close
  }
}
