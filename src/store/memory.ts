import { createChangeFeed } from './changes.js'
import { createLocalState } from './state.js'
import type { StoreState } from './state.js'
import { healthy, SOLE_LEADER } from './store.js'
import type { Store } from './store.js'

export interface MemoryStoreOptions {
  quote: string
  /** State to start from. */
  initial?: StoreState
  now?: () => Date
  /** FX_HISTORY_DAYS: the history keeps at least this many fixings per base. */
  historyDays?: number
}

/** One process, nothing persisted: the engine of unit tests and of a throwaway instance. */
export function createMemoryStore ({ quote, initial, now = () => new Date(), historyDays }: MemoryStoreOptions): Store {
  const local = createLocalState(quote, initial, historyDays)
  const changes = createChangeFeed()
  return {
    ...local.reads,
    async publish (input) {
      const { snapshot, previous } = local.publish(input, now())
      changes.emit(snapshot, previous)
      return snapshot
    },
    async saveObservations (observations) { local.saveObservations(observations) },
    async saveArchive (update) { local.saveArchive(update) },
    subscribe: changes.subscribe,
    health: healthy,
    leadership: SOLE_LEADER,
    async close () {}
  }
}
