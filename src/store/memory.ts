import { HISTORY_DAYS } from './store.js'
import type { Leadership, PublishInput, SnapshotListener, Store } from './store.js'
import type { Fixing, Observation, Snapshot } from '../domain/rate.js'
import { checkObservations, checkPublish } from './validate.js'

/** The state an engine keeps: what the embedded engine persists and the Redis engine mirrors. */
export interface StoreState {
  snapshot: Snapshot | undefined
  history: Record<string, Fixing[]>
  observations: Observation[]
}

export interface MemoryStoreOptions {
  quote: string
  /** State to start from, e.g. read back from disk. */
  initial?: StoreState
  now?: () => Date
}

/** Upserts one fixing into a date-ordered history, keeping the newest HISTORY_DAYS. */
export function upsertFixing (history: readonly Fixing[], fixing: Fixing): Fixing[] {
  const next = history.filter((f) => f.date !== fixing.date)
  next.push(fixing)
  next.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
  return next.length > HISTORY_DAYS ? next.slice(next.length - HISTORY_DAYS) : next
}

/**
 * Applies a publish to a state: next seq, fixings merged, observations replaced.
 * Throws RATES_STORE, before anything is changed, when the input would not parse back.
 */
export function applyPublish (state: StoreState, input: PublishInput, quote: string, now: Date, seq?: number): StoreState {
  const snapshot: Snapshot = { quote, seq: seq ?? (state.snapshot?.seq ?? 0) + 1, updatedAt: now.toISOString(), rates: input.rates }
  checkPublish(snapshot, input.fixings, input.observations)
  const history = { ...state.history }
  for (const [base, fixing] of Object.entries(input.fixings)) history[base] = upsertFixing(history[base] ?? [], fixing)
  return { snapshot, history, observations: input.observations }
}

/** Notifies listeners in order; one throwing listener does not starve the others. */
export function createListeners (): { add: (l: SnapshotListener) => () => void, emit: SnapshotListener } {
  const listeners = new Set<SnapshotListener>()
  return {
    add (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    emit (snapshot, previous) {
      for (const listener of listeners) {
        try { listener(snapshot, previous) } catch { /* a listener's failure is its own; the publish stands */ }
      }
    }
  }
}

export const ALWAYS_LEADER: Leadership = { isLeader: () => true, onChange: () => () => {} }

/** One process, nothing persisted: the base of the embedded engine and the engine of unit tests. */
export function createMemoryStore ({ quote, initial, now = () => new Date() }: MemoryStoreOptions): Store & { state: () => StoreState } {
  let state: StoreState = initial ?? { snapshot: undefined, history: {}, observations: [] }
  const listeners = createListeners()
  return {
    state: () => state,
    snapshot: () => state.snapshot,
    history: (base) => state.history[base] ?? [],
    observations: () => state.observations,
    async publish (input) {
      const previous = state.snapshot
      state = applyPublish(state, input, quote, now())
      const snapshot = state.snapshot as Snapshot
      listeners.emit(snapshot, previous)
      return snapshot
    },
    async saveObservations (observations) {
      checkObservations(observations)
      state = { ...state, observations }
    },
    subscribe: listeners.add,
    health: () => ({ ok: true, reasons: [] }),
    leadership: ALWAYS_LEADER,
    async close () {}
  }
}
