import type { FastifyInstance } from 'fastify'
import { addDays, isWeekday } from '../../src/domain/dates.js'
import type { Fixing } from '../../src/domain/rate.js'
import { createMemoryStore } from '../../src/store/memory.js'
import { EMPTY_STATE } from '../../src/store/state.js'
import { build } from '../support/build.js'

/** The app's clock in these tests: a Monday; tomorrow is 2026-03-17. */
export const TODAY = '2026-03-16'
export const NOW = new Date(`${TODAY}T10:00:00Z`)
/** The first fixing of every seeded history (a Monday). */
export const FIRST = '2025-02-03'

const SOURCES = [['nbk', 'cbr'], ['cbr-xml-daily'], ['nbk', 'cbu', 'frankfurter'], []]

/** Weekday fixings from FIRST through `last`, prices with many digits, bases and sources varying. */
export function seedHistory (last: string, level: number, step: number): Fixing[] {
  const out: Fixing[] = []
  for (let date = FIRST, i = 0; date <= last; date = addDays(date, 1)) {
    if (!isWeekday(date)) continue
    const inverse = Math.round((level + i * step + Math.sin(i) * level / 50) * 1e4) / 1e4
    out.push({ date, price: 1 / inverse, inverse, basis: i % 7 === 3 ? 'consensus' : 'official', sources: SOURCES[i % SOURCES.length] as string[] })
    i++
  }
  return out
}

/** KZT through today, UZS through tomorrow (a bank that dates its rate for the next day). */
export const seeded = (): Record<string, Fixing[]> => ({
  KZT: seedHistory(TODAY, 470, 0.13),
  UZS: seedHistory(addDays(TODAY, 1), 12_700, -2.1)
})

interface Teardown { teardown: (fn: () => unknown) => void }

/** An app on a memory store holding the seeded history, its clock at NOW (or `now`). */
export async function historyApp (t: Teardown, options: { env?: Record<string, string>, now?: () => Date, history?: Record<string, Fixing[]> } = {}): Promise<FastifyInstance> {
  const store = createMemoryStore({ quote: 'USD', initial: { ...EMPTY_STATE, history: options.history ?? seeded() }, historyDays: 400 })
  return await build(t, { store, now: options.now ?? (() => NOW), ...(options.env !== undefined && { env: options.env }) })
}

/** The dates of the seeded fixings of `base` within [from, to]. */
export function datesWithin (history: Record<string, Fixing[]>, base: string, from: string, to = '9999-12-31'): string[] {
  return (history[base] ?? []).filter((f) => f.date >= from && f.date <= to).map((f) => f.date)
}
