import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { RatesError } from '../domain/errors.js'
import { createChangeFeed } from './changes.js'
import { createRetryingWriter } from './retrying-writer.js'
import { readState, removeTemps, serialise, STATE_FILE, tempName, writeDurably } from './state-file.js'
import { createLocalState } from './state.js'
import { healthy, SILENT_LOG, SOLE_LEADER } from './store.js'
import type { Store, StoreLog } from './store.js'

export { STATE_FILE }

export interface EmbeddedStoreOptions {
  /** FX_STATE_DIR; created when missing. */
  dir: string
  quote: string
  log?: StoreLog
  now?: () => Date
  /** FX_HISTORY_DAYS: the history keeps at least this many fixings per base. */
  historyDays?: number
  /** A failed write is retried after retryMinMs (default 100), doubling up to retryMaxMs (default 30 s). */
  retryMinMs?: number
  retryMaxMs?: number
}

/** The public reason while the file lags memory; the path and the error go to the log. */
export const NOT_PERSISTED = 'state not persisted'

/**
 * The default engine: the in-memory state plus one JSON state file replaced atomically
 * (temp file, fsync, rename, fsync of the directory), so a restart serves the last snapshot at once.
 */
export async function createEmbeddedStore (options: EmbeddedStoreOptions): Promise<Store> {
  const { dir, quote, log = SILENT_LOG, now = () => new Date(), retryMinMs = 100, retryMaxMs = 30_000 } = options
  const file = join(dir, STATE_FILE)
  await mkdir(dir, { recursive: true })
  await removeTemps(dir)
  const local = createLocalState(quote, await readState(file, quote, log, now), options.historyDays)
  const changes = createChangeFeed()
  let temps = 0

  // Writes run one at a time and take the newest state, so a burst of publishes coalesces while each
  // publish still resolves only once a file holding its state is durable; a failed write is retried.
  const writer = createRetryingWriter({
    write: async () => { await writeDurably(dir, file, tempName(dir, ++temps), serialise(local.current())) },
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
    ...local.reads,
    async publish (input) {
      const { snapshot, previous } = local.publish(input, now())
      // Clients are told either way: a failing disk must not freeze the ticker; health says the state is not durable.
      try {
        await persist()
      } finally {
        changes.emit(snapshot, previous)
      }
      return snapshot
    },
    async saveObservations (observations) {
      local.saveObservations(observations)
      await persist()
    },
    async saveArchive (update) {
      local.saveArchive(update)
      await persist()
    },
    subscribe: changes.subscribe,
    health: () => (writer.behind() ? { ok: false, reasons: [NOT_PERSISTED] } : healthy()),
    leadership: SOLE_LEADER,
    close: writer.close
  }
}
