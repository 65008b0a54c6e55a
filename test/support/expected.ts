import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FIXTURES } from './fixture-server.js'
import { isRatesError } from '../../src/domain/errors.js'
import type { Quote } from '../../src/domain/rate.js'

/** One entry of test/fixtures/upstream/expected.json (units per USD as decimal strings, null = absent). */
export interface ExpectedFixture {
  file: string
  source: string
  kind: string
  effective_date: string | null
  units_per_usd: Record<string, string | null>
  extra_units_per_usd: Record<string, string>
  notes: string
}

const all = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as { fixtures: ExpectedFixture[] }

export function expected (file: string): ExpectedFixture {
  const entry = all.fixtures.find((f) => f.file === file)
  if (entry === undefined) throw new Error(`no expected.json entry for ${file}`)
  return entry
}

/** Every fixture of a source, so a newly added fixture cannot go untested. */
export function expectedOf (source: string): ExpectedFixture[] {
  return all.fixtures.filter((f) => f.source === source)
}

/** The tap assertions the helpers use, so they accept any test object. */
export interface Asserts {
  ok: (value: unknown, message: string) => unknown
  notOk: (value: unknown, message: string) => unknown
  equal: (found: unknown, wanted: unknown, message: string) => unknown
  match: (found: unknown, pattern: RegExp, message: string) => unknown
  fail: (message: string) => unknown
}

/** Relative difference, for comparing with values rounded to 6 dp. */
/** Runs a parser expecting a RatesError with `code` (and a message matching `message`). */
export function assertRejects (t: Asserts, fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn()
    t.fail(`expected ${code}`)
  } catch (err) {
    t.ok(isRatesError(err), 'a RatesError')
    t.equal((err as { code?: string }).code, code, `code ${code}`)
    if (message !== undefined) t.match((err as Error).message, message, `message matches ${String(message)}`)
  }
}

export function relDiff (found: number, wanted: number): number {
  return Math.abs(found - wanted) / Math.abs(wanted)
}

/**
 * Checks quotes against expected units per USD (relative tolerance 1e-6), the value date, and that
 * the currencies marked absent are missing rather than zero.
 */
export function assertQuotes (t: Asserts, quotes: Quote[], want: ExpectedFixture | { effective_date: string | null, units_per_usd: Record<string, string | null>, extra_units_per_usd?: Record<string, string> }): void {
  const byBase = new Map(quotes.map((q) => [q.base, q]))
  const values = { ...want.units_per_usd, ...want.extra_units_per_usd }
  for (const [base, text] of Object.entries(values)) {
    const q = byBase.get(base)
    if (text === null) {
      t.notOk(q, `${base} is absent`)
      continue
    }
    t.ok(q !== undefined && relDiff(q.inverse, Number(text)) < 1e-6, `${base} = ${text} per USD (got ${q?.inverse})`)
    t.equal(q?.date, want.effective_date, `${base} value date`)
  }
  for (const q of quotes) {
    t.ok(Number.isFinite(q.inverse) && q.inverse > 0, `${q.base} inverse is positive and finite`)
    t.ok(Number.isFinite(q.relErr) && q.relErr > 0 && q.relErr < 0.05, `${q.base} relErr ${q.relErr} is small but > 0`)
  }
  t.notOk(byBase.has('USD'), 'USD itself is not emitted')
}
