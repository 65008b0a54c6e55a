import { z } from 'zod'
import { RatesError } from '../domain/errors.js'
import { CurrencySchema, FixingSchema, ObservationSchema, RateSchema, SnapshotSchema } from '../domain/rate.js'
import type { Fixing, Observation, Rate, Snapshot } from '../domain/rate.js'
import { ArchiveSchema } from '../domain/archive.js'
import type { Archive } from '../domain/archive.js'
import type { StoreState } from './state.js'
import type { ArchiveUpdate } from './store.js'

const FixingsSchema = z.record(CurrencySchema, FixingSchema)
const ObservationsSchema = z.array(ObservationSchema)
const EnvelopeSchema = SnapshotSchema.extend({ rates: z.array(z.unknown()) })

/** The first few issues of a failed parse, as `path: message`, for logs and error messages. */
export function describeIssues (error: z.ZodError, prefix = ''): string {
  return error.issues.slice(0, 3).map((i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)'}: ${i.message}`).join('; ')
}

function refuse (what: string, error: z.ZodError, prefix: string): never {
  throw new RatesError('RATES_STORE', `refused to store ${what}: ${describeIssues(error, prefix)}`, 500)
}

/**
 * Checks what an engine is about to store: whatever does not parse back (a non-finite number becomes `null`
 * in JSON) would later be served as it is or set aside with everything else, so it is refused before anything changes.
 */
export function checkPublish (snapshot: Snapshot, fixings: Record<string, Fixing>, observations: Observation[]): void {
  const parsedSnapshot = SnapshotSchema.safeParse(snapshot)
  if (!parsedSnapshot.success) refuse('an invalid snapshot', parsedSnapshot.error, 'snapshot')
  const parsedFixings = FixingsSchema.safeParse(fixings)
  if (!parsedFixings.success) refuse('an invalid fixing', parsedFixings.error, 'fixings')
  checkObservations(observations)
}

export function checkObservations (observations: Observation[]): void {
  const parsed = ObservationsSchema.safeParse(observations)
  if (!parsed.success) refuse('an invalid observation', parsed.error, 'observations')
}

const HistoryUpdateSchema = z.record(CurrencySchema, z.array(FixingSchema))

export function checkArchiveUpdate (update: ArchiveUpdate): void {
  const archive = ArchiveSchema.safeParse(update.archive)
  if (!archive.success) refuse('an invalid archive', archive.error, 'archive')
  const fixings = HistoryUpdateSchema.safeParse(update.fixings)
  if (!fixings.success) refuse('an invalid fixing', fixings.error, 'fixings')
}

/** What a salvage kept, and a line per entry it dropped. */
export interface Salvaged {
  state: StoreState
  dropped: string[]
}

export function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Keeps the elements of `items` that parse; the rest are reported under `path[i]`. */
function keepValid<T> (items: unknown[], schema: z.ZodType<T>, path: string, dropped: string[], label?: (item: unknown) => string): T[] {
  const kept: T[] = []
  items.forEach((item, i) => {
    const parsed = schema.safeParse(item)
    if (parsed.success) kept.push(parsed.data)
    else dropped.push(`${path}[${i}]${label === undefined ? '' : ` (${label(item)})`}: ${describeIssues(parsed.error)}`)
  })
  return kept
}

const pairOfItem = (item: unknown): string => (isRecord(item) && typeof item.pair === 'string' ? item.pair.slice(0, 16) : '?')

function salvageSnapshot (raw: unknown, dropped: string[]): Snapshot | undefined {
  if (raw === null || raw === undefined) return undefined
  const envelope = EnvelopeSchema.safeParse(raw)
  if (!envelope.success) {
    dropped.push(`snapshot: ${describeIssues(envelope.error)}`)
    return undefined
  }
  // the seq must survive (clients resume from it), so a bad rate costs that rate, not the snapshot
  const rates: Rate[] = keepValid(envelope.data.rates, RateSchema, 'snapshot.rates', dropped, pairOfItem)
  return { ...envelope.data, rates }
}

function salvageHistory (raw: unknown, dropped: string[]): Record<string, Fixing[]> {
  if (raw === undefined) return {}
  if (!isRecord(raw)) {
    dropped.push('history')
    return {}
  }
  const history: Record<string, Fixing[]> = {}
  for (const [base, fixings] of Object.entries(raw)) {
    const path = CurrencySchema.safeParse(base).success ? `history.${base}` : `history[${JSON.stringify(base.slice(0, 16))}]`
    if (!CurrencySchema.safeParse(base).success || !Array.isArray(fixings)) {
      dropped.push(`${path}: not a currency's list of fixings`)
      continue
    }
    const kept = keepValid(fixings, FixingSchema, path, dropped)
    if (kept.length > 0) history[base] = kept
  }
  return history
}

/**
 * Keeps every valid part of a state file that is ours (format and version already checked): a bad rate,
 * fixing or observation is dropped alone instead of taking the year of history down with it.
 */
export function salvageState (file: Record<string, unknown>): Salvaged {
  const dropped: string[] = []
  const snapshot = salvageSnapshot(file.snapshot, dropped)
  const history = salvageHistory(file.history, dropped)
  let observations: Observation[] = []
  if (Array.isArray(file.observations)) observations = keepValid(file.observations, ObservationSchema, 'observations', dropped)
  else if (file.observations !== undefined) dropped.push('observations')
  return { state: { snapshot, history, observations, archive: salvageArchive(file.archive, dropped) }, dropped }
}

/** Each source's archive progress that parses; a bad one is dropped alone (backfill asks its dates again). */
function salvageArchive (raw: unknown, dropped: string[]): Archive {
  if (raw === undefined) return {}
  if (!isRecord(raw)) {
    dropped.push('archive')
    return {}
  }
  const archive: Archive = {}
  for (const [id, entry] of Object.entries(raw)) {
    const parsed = ArchiveSchema.safeParse({ [id]: entry })
    if (parsed.success) Object.assign(archive, parsed.data)
    else dropped.push(`archive[${JSON.stringify(id.slice(0, 24))}]: ${describeIssues(parsed.error)}`)
  }
  return archive
}
