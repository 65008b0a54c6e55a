import { Agent } from 'undici'
import { addDays, isWeekday } from '../../src/domain/dates.js'
import { RatesError } from '../../src/domain/errors.js'
import type { Quote } from '../../src/domain/rate.js'
import type { SourceId } from '../../src/domain/sources.js'
import type { DatedSource } from '../../src/sources/url-source.js'

/** Units per USD of `base` on `date`: a smooth walk around late-2025 levels, TMT on its peg. */
export function truth (base: string, date: string): number {
  const level: Record<string, number> = { KGS: 87.45, KZT: 511.6, TJS: 9.24, UZS: 12014.27, TMT: 3.5 }
  if (base === 'TMT') return 3.5
  const n = Date.parse(date) / 86_400_000
  return (level[base] ?? 1) * (1 + 0.01 * Math.sin(n / 9 + base.charCodeAt(1)))
}

export interface Call { id: string, date: string, start: number, end: number }

export interface FakeArchive {
  /** Which bases it quotes. */
  bases: string[]
  /** Publishes on this date (else it answers with the last day it did publish). */
  publishes: (date: string) => boolean
  /** A 404 instead of a carry-forward on days without a publication. */
  notFoundOnGaps?: boolean
  /** The answer for a date is a failure. */
  fails?: (date: string) => boolean
}

/**
 * An in-process dated source: the calendar logic of a bank's archive (business days, carry-forward,
 * 404 on days off) without HTTP, so the scheduler's decisions are tested on their own. Every call is logged.
 */
export function fakeDated (id: SourceId, archive: FakeArchive, calls: Call[], latencyMs = 2): DatedSource {
  const fetchDay = async (_ctx: unknown, date: string): Promise<Quote[]> => {
    const call: Call = { id, date, start: Date.now(), end: 0 }
    calls.push(call)
    await new Promise((resolve) => setTimeout(resolve, latencyMs))
    call.end = Date.now()
    if (archive.fails?.(date) === true) throw new RatesError('RATES_SOURCE_HTTP', `${id}: HTTP 500`, 502)
    let day = date
    if (!archive.publishes(day)) {
      if (archive.notFoundOnGaps === true) return []
      for (let i = 0; i < 10 && !archive.publishes(day); i++) day = addDays(day, -1)
    }
    return archive.bases.map((base) => ({ base, inverse: truth(base, day), date: day, relErr: 1e-6, cadence: 'daily' as const }))
  }
  return { id, fetchDay, fetchQuotes: async (ctx) => await fetchDay(ctx, '2000-01-01') }
}

export const businessDays = (date: string): boolean => isWeekday(date)
export const everyDay = (): boolean => true

/** Five archives shaped like the banks': NBK and CBU on business days, NBT every day, CBT 404 on days off, CBR Tuesday–Saturday. */
export function banks (calls: Call[], faults: Partial<Record<SourceId, (date: string) => boolean>> = {}): DatedSource[] {
  const cbrDays = (d: string): boolean => { const wd = new Date(`${d}T00:00:00Z`).getUTCDay(); return wd >= 2 && wd <= 6 }
  return [
    fakeDated('nbk', { bases: ['KZT', 'KGS', 'TJS', 'UZS'], publishes: businessDays, ...(faults.nbk !== undefined && { fails: faults.nbk }) }, calls),
    fakeDated('cbu', { bases: ['UZS', 'KZT', 'KGS', 'TJS', 'TMT'], publishes: businessDays, ...(faults.cbu !== undefined && { fails: faults.cbu }) }, calls),
    fakeDated('nbt', { bases: ['TJS', 'KZT', 'KGS', 'UZS', 'TMT'], publishes: everyDay, ...(faults.nbt !== undefined && { fails: faults.nbt }) }, calls),
    fakeDated('cbt', { bases: ['TMT', 'KZT', 'KGS', 'TJS', 'UZS'], publishes: businessDays, notFoundOnGaps: true, ...(faults.cbt !== undefined && { fails: faults.cbt }) }, calls),
    fakeDated('cbr', { bases: ['KZT', 'KGS', 'TJS', 'UZS', 'TMT'], publishes: cbrDays, ...(faults.cbr !== undefined && { fails: faults.cbr }) }, calls)
  ]
}

/** Unused by the fake sources, but part of every fetch context. */
export const dispatcher = new Agent()
