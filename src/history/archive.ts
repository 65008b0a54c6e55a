import { EMPTY_SOURCE_ARCHIVE } from '../domain/archive.js'
import type { ArchiveQuote, SourceArchive } from '../domain/archive.js'
import { addDays } from '../domain/dates.js'
import type { Quote } from '../domain/rate.js'

/**
 * The longest run of days one publication may stay in force: a bank's longest holidays (New Year, Nowruz)
 * close it for a few days. An archive that answers a day with a set older than this is not carrying a
 * publication forward but answering wrong, and a date further back than this from its set is not covered by it.
 */
export const MAX_CARRY_DAYS = 10

/** The most days one range request asks for: NBKR's history page answers about a year of rows. */
export const MAX_SPAN_DAYS = 366

/** The publication of one source in force on a date: its own value date and quotes by base. */
export interface InForce {
  date: string
  quotes: Record<string, ArchiveQuote>
}

/** True when the source's publication in force on `date` is known: asked before, or a set of that date is held. */
export function isKnown (archive: SourceArchive, date: string): boolean {
  return archive.quotes[date] !== undefined || archive.asked.some(([from, to]) => from <= date && date <= to)
}

/**
 * Records the answer to asking `asked`: the quotes of the set it carried (all of one value date; an answer
 * of several dates keeps the newest). With `final`, the dates from that set's value date to `asked` are known
 * for good (a past date's archive does not change); an empty answer (404) marks `asked` alone.
 */
export function recordAnswer (archive: SourceArchive, asked: string, quotes: readonly Quote[], final: boolean): SourceArchive {
  let valueDate: string | undefined
  for (const q of quotes) if (valueDate === undefined || q.date > valueDate) valueDate = q.date
  const next: SourceArchive = { asked: archive.asked, quotes: archive.quotes }
  if (valueDate !== undefined) {
    const set: Record<string, ArchiveQuote> = { ...archive.quotes[valueDate] }
    for (const q of quotes) if (q.date === valueDate) set[q.base] = [q.inverse, q.relErr]
    next.quotes = { ...archive.quotes, [valueDate]: set }
  }
  if (final) next.asked = mergeRange(archive.asked, [valueDate ?? asked, asked])
  return next
}

/**
 * Records the answer to asking the days `from`..`to` at once: the set of each day that had one. The days up
 * to `final` (before today) are known for good; a day of the range without a set had no publication.
 */
export function recordSpan (archive: SourceArchive, from: string, to: string, quotes: readonly Quote[], final: string): SourceArchive {
  if (from === to) return recordAnswer(archive, to, quotes, to <= final)
  const byDate = new Map<string, Quote[]>()
  for (const q of quotes) byDate.set(q.date, [...(byDate.get(q.date) ?? []), q])
  let next = archive
  for (const [date, set] of byDate) next = recordAnswer(next, date, set, false)
  return final >= from ? { ...next, asked: mergeRange(next.asked, [from, final < to ? final : to]) } : next
}

/** The oldest day of the unknown run that ends at `to`, at most a year long and not before `from`. */
export function unknownSince (archive: SourceArchive, to: string, from: string, excluded: ReadonlySet<string>): string {
  const limit = addDays(to, -(MAX_SPAN_DAYS - 1))
  let start = to
  for (let d = addDays(to, -1); d >= from && d >= limit && !excluded.has(d) && !isKnown(archive, d); d = addDays(d, -1)) start = d
  return start
}

/** Inserts an inclusive date range, merging it with every range it overlaps or touches. */
export function mergeRange (ranges: ReadonlyArray<[string, string]>, range: [string, string]): Array<[string, string]> {
  let [from, to] = range
  const kept: Array<[string, string]> = []
  for (const [a, b] of ranges) {
    if (b < addDays(from, -1) || a > addDays(to, 1)) {
      kept.push([a, b])
    } else {
      if (a < from) from = a
      if (b > to) to = b
    }
  }
  kept.push([from, to])
  return kept.sort((x, y) => (x[0] < y[0] ? -1 : 1))
}

/** The newest set dated on or before `date` and at most MAX_CARRY_DAYS before it, if any. */
export function inForce (archive: SourceArchive, date: string): InForce | undefined {
  const earliest = addDays(date, -MAX_CARRY_DAYS)
  let best: string | undefined
  for (const d of Object.keys(archive.quotes)) {
    if (d <= date && d >= earliest && (best === undefined || d > best)) best = d
  }
  return best === undefined ? undefined : { date: best, quotes: archive.quotes[best] as Record<string, ArchiveQuote> }
}

/** The newest date in [from, to] that is neither known nor excluded, searching down from `to`. */
export function nextUnknown (archive: SourceArchive, from: string, to: string, excluded: ReadonlySet<string>): string | undefined {
  for (let d = to; d >= from; d = addDays(d, -1)) {
    if (!excluded.has(d) && !isKnown(archive, d)) return d
  }
  return undefined
}

/** Drops what lies before `from`: the window moves on, and the state stays bounded. The same object when nothing does. */
export function pruneBefore (archive: SourceArchive, from: string): SourceArchive {
  const cutoff = addDays(from, -MAX_CARRY_DAYS)
  // nothing before the cutoff: the same archive, so the caller can tell nothing changed
  if (Object.keys(archive.quotes).every((d) => d >= cutoff) && archive.asked.every(([a]) => a >= cutoff)) return archive
  const quotes = Object.fromEntries(Object.entries(archive.quotes).filter(([d]) => d >= cutoff))
  const asked = archive.asked.filter(([, to]) => to >= cutoff).map(([a, b]): [string, string] => [a < cutoff ? cutoff : a, b])
  return { asked, quotes }
}

export function sourceArchiveOf (archives: Readonly<Record<string, SourceArchive>>, id: string): SourceArchive {
  return archives[id] ?? EMPTY_SOURCE_ARCHIVE
}
