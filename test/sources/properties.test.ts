import t from 'tap'
import fc from 'fast-check'
import { addDays } from '../../src/domain/dates.js'
import { isRatesError } from '../../src/domain/errors.js'
import { MAX_INVERSE, MIN_INVERSE, valueDateWindow, zoneOfSource } from '../../src/domain/plausible.js'
import { QuoteSchema } from '../../src/domain/rate.js'
import { ADAPTERS, DATE_TOKEN, payload, redate } from './adapters.js'
import type { Adapter } from './adapters.js'

// FC_RUNS raises the number of cases per property for a longer reliability run; FC_SEED replays a failure
const RUNS = Number(process.env.FC_RUNS ?? 40)
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED)
const params = { numRuns: RUNS, ...(SEED !== undefined && { seed: SEED }) }

/** Wed 26 Nov 2025 09:00 UTC: the recorded payloads' day. */
const RECORDED = Date.parse('2025-11-26T09:00:00Z')
const DAY_MS = 86_400_000

interface Case { adapter: Adapter, text: string }
const CASES: Case[] = ADAPTERS.flatMap((adapter) => adapter.fixtures.map((file) => ({ adapter, text: payload(file) })))

/** The poll's clock: mostly near the recorded day, sometimes anywhere Date can be. */
const nowArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -3 * DAY_MS, max: 3 * DAY_MS }).map((d) => new Date(RECORDED + d)) },
  { weight: 1, arbitrary: fc.integer({ min: -8.64e15, max: 8.64e15 }).map((ms) => new Date(ms)) }
)

/** A value date: near the recorded day, or anywhere from 0000 to 9999. */
const isoArb = fc.oneof(
  fc.integer({ min: -40, max: 40 }).map((d) => addDays('2025-11-26', d)),
  fc.integer({ min: -800_000, max: 3_000_000 }).map((d) => addDays('1970-01-01', d)),
  fc.constantFrom('9999-12-31', '0000-01-01', '1999-12-31', '2000-01-01', '2025-02-29', '2025-12-07')
)

/** Numbers as hostile upstreams print them: subnormal, overflowing, signed, not numbers at all. */
const numberArb = fc.oneof(
  fc.constantFrom('1,0000000000E-320', '4.9e-324', '1e-300', '1E308', '1.8e308', '1e400', '0', '0,0000', '-1', '-0', 'NaN',
    'Infinity', '1e-10', '999999999999', '0.000000001', '1 000 000 000,5', '', ' ', '1..2', '1e', '٣٫٥', '0x10'),
  fc.double({ noNaN: false }).map(String),
  fc.double().map((x) => String(x).replace('.', ',')),
  fc.stringMatching(/^-?\d{1,400}([.,]\d{0,400})?([eE][+-]?\d{1,4})?$/)
)

/** Every number of a payload that is not part of a date. */
function numberSpans (text: string): Array<[number, number]> {
  const dates: Array<[number, number]> = [...text.matchAll(DATE_TOKEN)].map((m) => [m.index, m.index + m[0].length])
  return [...text.matchAll(/-?\d+(?:[.,]\d+)?(?:[eE][+-]?\d+)?/g)]
    .filter((m) => !dates.some(([a, b]) => m.index >= a && m.index < b))
    .map((m) => [m.index, m.index + m[0].length])
}

/** A mutation of one payload; undefined where it does not apply (JSON edits of XML). */
type Mutation = (text: string) => fc.Arbitrary<string> | undefined

const MUTATIONS: Record<string, Mutation> = {
  'every date moved': (text) => isoArb.map((iso) => redate(text, iso)),
  'some numbers replaced': (text) => {
    const spans = numberSpans(text)
    return fc.array(fc.tuple(fc.nat(Math.max(0, spans.length - 1)), numberArb), { minLength: 1, maxLength: 8 }).map((edits) => {
      let out = text
      // right to left, so earlier offsets stay valid
      for (const [i, value] of [...new Map(edits)].sort((a, b) => b[0] - a[0])) {
        const span = spans[i]
        if (span !== undefined) out = out.slice(0, span[0]) + value + out.slice(span[1])
      }
      return out
    })
  },
  'bytes flipped, cut or inserted': (text) => fc.array(fc.tuple(fc.nat(text.length), fc.nat(40), fc.string({ maxLength: 6, unit: 'binary' })), { minLength: 1, maxLength: 6 })
    .map((edits) => edits.reduce((out, [at, cut, ins]) => out.slice(0, at) + ins + out.slice(at + cut), text)),
  'truncated or structure repeated': (text) => fc.tuple(fc.nat(text.length), fc.nat(text.length), fc.nat(text.length), fc.boolean())
    .map(([a, b, c, cut]) => {
      const [from, to] = a < b ? [a, b] : [b, a]
      // duplicates currencies, dates and whole elements, or drops a slice
      return cut ? text.slice(0, from) + text.slice(to) : text.slice(0, c) + text.slice(from, to) + text.slice(c)
    }),
  'JSON values replaced': (text) => {
    let doc: unknown
    try { doc = JSON.parse(text) } catch { return undefined }
    return fc.array(fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 2 })), { minLength: 1, maxLength: 4 })
      .map((edits) => JSON.stringify(edits.reduce((d, [pick, value]) => replaceNode(d, pick, value), structuredClone(doc))))
  }
}

/** Replaces the pick-th node (depth-first, modulo the count) of a JSON value. */
function replaceNode (doc: unknown, pick: number, value: unknown): unknown {
  const nodes: Array<{ parent: Record<string, unknown> | unknown[], key: string | number }> = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach((child, i) => { nodes.push({ parent: v, key: i }); walk(child) })
    else if (v !== null && typeof v === 'object') for (const [k, child] of Object.entries(v)) { nodes.push({ parent: v as Record<string, unknown>, key: k }); walk(child) }
  }
  walk(doc)
  const node = nodes[pick % Math.max(1, nodes.length)]
  if (node === undefined) return value
  ;(node.parent as Record<string | number, unknown>)[node.key] = value
  return doc
}

/** How many parses gave quotes: a property that only ever sees errors would prove nothing. */
let yielded = 0

/** Only RatesError may escape; every quote is schema-valid, plausible and not dated after tomorrow in the source's zone. */
function holds (adapter: Adapter, text: string, now: Date): boolean {
  let quotes
  try {
    quotes = adapter.parse(text, now)
  } catch (err) {
    if (isRatesError(err)) return true
    throw err
  }
  yielded++
  const latest = valueDateWindow(now, zoneOfSource(adapter.source)).latest
  for (const q of quotes) {
    const problem = !QuoteSchema.safeParse(q).success
      ? 'not a valid quote'
      : !(q.inverse > MIN_INVERSE && q.inverse < MAX_INVERSE) ? `implausible inverse ${q.inverse}` : q.date > latest ? `dated ${q.date}, after ${latest}` : undefined
    if (problem !== undefined) throw new Error(`${adapter.name}: ${q.base} ${problem}: ${JSON.stringify(q)}`)
  }
  return true
}

for (const [name, mutate] of Object.entries(MUTATIONS)) {
  t.test(`mutated payloads (${name}) give typed errors or sane quotes`, async (t) => {
    yielded = 0
    let runs = 0
    for (const { adapter, text } of CASES) {
      const mutated = mutate(text)
      if (mutated === undefined) continue
      fc.assert(fc.property(mutated, nowArb, (m, now) => holds(adapter, m, now)), params)
      runs += RUNS
    }
    t.ok(yielded > 0, `${yielded} of ${runs} mutated payloads still gave quotes, and all of them were sane`)
  })
}

t.test('random text gives typed errors', async (t) => {
  const text = fc.oneof(fc.string({ maxLength: 300, unit: 'binary' }), fc.json({ maxDepth: 3 }),
    fc.array(fc.constantFrom('<', '>', '/', '="', '<?xml version="1.0"?>', '<Valute>', '<rate code="USD">', '<item>', '{', '}', '[', ']', '"date":', '"USD"', '87,45', '26.11.2025', '2025-11-26', 'ValCurs', 'CurrencyRates', ' ')).map((parts) => parts.join('')))
  for (const { adapter } of CASES) fc.assert(fc.property(text, nowArb, (s, now) => holds(adapter, s, now)), params)
  t.pass(`${CASES.length} parsers × ${RUNS} random texts`)
})

t.test('the recorded payloads themselves satisfy the property on their own day', async (t) => {
  for (const { adapter, text } of CASES) t.ok(adapter.parse(text, new Date(RECORDED)).length > 0, adapter.name)
})
