import type { Archive } from '../domain/archive.js'
import type { Fixing, Observation, Snapshot } from '../domain/rate.js'
import { HISTORY_DAYS } from './store.js'
import type { ArchiveUpdate, PublishInput, StateReads } from './store.js'
import { checkArchiveUpdate, checkObservations, checkPublish } from './validate.js'

/** The state an engine keeps: what the embedded engine persists and the Redis engine mirrors. */
export interface StoreState {
  snapshot: Snapshot | undefined
  history: Record<string, Fixing[]>
  observations: Observation[]
  archive: Archive
}

export const EMPTY_STATE: StoreState = { snapshot: undefined, history: {}, observations: [], archive: {} }

/** Upserts one fixing into a date-ordered history, keeping the newest `keep` (HISTORY_DAYS by default). */
export function upsertFixing (history: readonly Fixing[], fixing: Fixing, keep = HISTORY_DAYS): Fixing[] {
  const next = history.filter((f) => f.date !== fixing.date)
  next.push(fixing)
  next.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
  return next.length > keep ? next.slice(next.length - keep) : next
}

/**
 * Applies a publish to a state: next seq (or the one given), fixings merged, observations replaced.
 * Throws RATES_STORE, before anything is changed, when the input would not parse back.
 */
export function applyPublish (state: StoreState, input: PublishInput, quote: string, now: Date, seq?: number, keep = HISTORY_DAYS): StoreState {
  const snapshot: Snapshot = { quote, seq: seq ?? (state.snapshot?.seq ?? 0) + 1, updatedAt: now.toISOString(), rates: input.rates }
  checkPublish(snapshot, input.fixings, input.observations)
  const history = { ...state.history }
  for (const [base, fixing] of Object.entries(input.fixings)) history[base] = upsertFixing(history[base] ?? [], fixing, keep)
  return { ...state, snapshot, history, observations: input.observations }
}

/** Applies backfill's progress: changed sources replaced whole, fixings upserted. Throws RATES_STORE before anything changes. */
export function applyArchive (state: StoreState, update: ArchiveUpdate, keep = HISTORY_DAYS): StoreState {
  checkArchiveUpdate(update)
  const history = { ...state.history }
  for (const [base, fixings] of Object.entries(update.fixings)) {
    let next = history[base] ?? []
    for (const fixing of fixings) next = upsertFixing(next, fixing, keep)
    history[base] = next
  }
  return { ...state, history, archive: { ...state.archive, ...update.archive } }
}

/** What changed the copy: the snapshot it holds now and the one it held before. */
export interface Applied {
  snapshot: Snapshot
  previous: Snapshot | undefined
}

/** This instance's copy of the state; every engine serves its reads from one. */
export interface LocalState {
  reads: StateReads
  /** How many fixings per base the history keeps. */
  keep: number
  current: () => StoreState
  /** Replaces the whole copy (a re-read, a follower's update); returns the snapshot held before. */
  replace: (next: StoreState) => Snapshot | undefined
  /** Applies a publish under the next seq; nothing changes when it throws. */
  publish: (input: PublishInput, now: Date) => Applied
  /** Replaces the observations after checking them; the snapshot and its seq stay. */
  saveObservations: (observations: Observation[]) => void
  /** Applies backfill's progress after checking it; the snapshot and its seq stay. */
  saveArchive: (update: ArchiveUpdate) => void
}

/** `historyDays` (FX_HISTORY_DAYS) widens what the history keeps beyond HISTORY_DAYS, never narrows it. */
export function createLocalState (quote: string, initial: StoreState = EMPTY_STATE, historyDays = 0): LocalState {
  const keep = Math.max(HISTORY_DAYS, historyDays)
  let state = initial
  const replace = (next: StoreState): Snapshot | undefined => {
    const previous = state.snapshot
    state = next
    return previous
  }
  return {
    reads: {
      snapshot: () => state.snapshot,
      history: (base) => state.history[base] ?? [],
      observations: () => state.observations,
      archive: () => state.archive
    },
    keep,
    current: () => state,
    replace,
    publish (input, now) {
      const next = applyPublish(state, input, quote, now, undefined, keep)
      return { previous: replace(next), snapshot: next.snapshot as Snapshot }
    },
    saveObservations (observations) {
      checkObservations(observations)
      state = { ...state, observations }
    },
    saveArchive (update) {
      state = applyArchive(state, update, keep)
    }
  }
}
