import type { Archive } from '../domain/archive.js'
import type { Fixing, Observation, Rate, Snapshot } from '../domain/rate.js'

/** What a publisher hands the store: the new rates and the evidence behind them. */
export interface PublishInput {
  rates: Rate[]
  /** The fixing of each rate's value date, per base, to upsert into the daily history. */
  fixings: Record<string, Fixing>
  /** Every source's last good observations, so a restart or a new leader reconciles exactly as before. */
  observations: Observation[]
}

/** What backfill hands the store: archive progress and the fixings reconciled from the archives. */
export interface ArchiveUpdate {
  /** The sources whose archive changed, each given whole; the other sources' entries stay. */
  archive: Archive
  /** Per base, fixings to upsert into the history (a date already held is replaced). No new seq. */
  fixings: Record<string, Fixing[]>
}

/** Called on every instance when a snapshot is published; `previous` is what this instance held before. */
export type SnapshotListener = (snapshot: Snapshot, previous: Snapshot | undefined) => void

export interface EngineHealth {
  ok: boolean
  /** Why the engine is not ready, for /readyz. */
  reasons: string[]
}

/** The slice of a pino logger the engines write to. */
export interface StoreLog {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

/** Reads of this instance's copy of the state: synchronous, never a round trip. */
export interface StateReads {
  /** The last published snapshot, or undefined before the first one. */
  snapshot: () => Snapshot | undefined
  /** Daily fixings of one base, oldest first. */
  history: (base: string) => Fixing[]
  /** The observations stored with the last publish or save. */
  observations: () => Observation[]
  /** What the dated archives have answered so far (backfill progress). */
  archive: () => Archive
}

/** The state a publisher hands over: the reads, and the two writes only the leader makes. */
export interface SnapshotState extends StateReads {
  /** Stores rates under the next seq; resolves with the stored snapshot. */
  publish: (input: PublishInput) => Promise<Snapshot>
  /** Stores observations when no published field changed (seq stays). */
  saveObservations: (observations: Observation[]) => Promise<void>
  /** Stores backfill progress and upserts the fixings it reconciled; the snapshot and its seq stay. */
  saveArchive: (update: ArchiveUpdate) => Promise<void>
}

/** Change notification: each publish reaches the listeners of every instance once, in seq order. */
export interface ChangeFeed {
  subscribe: (listener: SnapshotListener) => () => void
}

/** Whether this instance may poll and publish; a lone instance always may, Redis elects one leader. */
export interface Leadership {
  isLeader: () => boolean
  /** Called with true when this instance becomes the leader and false when it stops being one. */
  onChange: (listener: (leader: boolean) => void) => () => void
}

/**
 * One engine (memory, embedded or Redis): the state, change and leadership seams side by side, plus its
 * readiness and close. Consumers take the seam they need; the app closes the engine.
 */
export interface Store extends SnapshotState, ChangeFeed {
  leadership: Leadership
  health: () => EngineHealth
  close: () => Promise<void>
}

/** How many daily fixings per base the history keeps. */
export const HISTORY_DAYS = 400

/** The leadership of an engine that is alone with its state. */
export const SOLE_LEADER: Leadership = { isLeader: () => true, onChange: () => () => {} }

export const healthy = (): EngineHealth => ({ ok: true, reasons: [] })

export const SILENT_LOG: StoreLog = { info () {}, warn () {}, error () {} }
