// The recorded upstream payloads of one day, parsed and reconciled as one poll cycle would, and the
// state file the embedded engine restores from: the REST and cold-start benchmarks serve a real snapshot.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { addDays } from '../../src/domain/dates.js'
import type { Fixing, Observation, Quote, Snapshot } from '../../src/domain/rate.js'
import type { SourceId } from '../../src/domain/sources.js'
import { mergeObservations } from '../../src/poller/observations.js'
import { reconcile } from '../../src/reconciler/reconcile.js'
import { parseCbrXmlDaily } from '../../src/sources/cbr-xml-daily.js'
import { parseCbr } from '../../src/sources/cbr.js'
import { parseCbt } from '../../src/sources/cbt.js'
import { parseCbu } from '../../src/sources/cbu.js'
import { parseFawazahmed0 } from '../../src/sources/fawazahmed0.js'
import { parseFrankfurter } from '../../src/sources/frankfurter.js'
import { decode } from '../../src/sources/http.js'
import { parseNbk } from '../../src/sources/nbk.js'
import { parseNbkr } from '../../src/sources/nbkr.js'
import { parseNbt } from '../../src/sources/nbt.js'
import { parseOpenErApi } from '../../src/sources/open-er-api.js'
import { STATE_FILE } from '../../src/store/embedded.js'
import { FIXTURES } from '../support/fixture-server.js'

export type Day = '2025-11-25' | '2025-11-26'
const CURRENCIES = ['KGS', 'KZT', 'TJS', 'UZS', 'TMT']

/** One source's recorded payload(s) as bytes with their content type, and its parser. */
interface Payload { source: SourceId, files: Array<[string, string]>, parse: (texts: string[]) => Quote[] }

function payloads (day: Day): Payload[] {
  const dd = day.slice(8, 10)
  // the adapters refuse value dates after tomorrow: parse as at noon of the recorded day
  const now = new Date(`${day}T12:00:00.000Z`)
  const one = (source: SourceId, file: string, type: string, parse: (text: string, opts: { now: Date }) => Quote[]): Payload =>
    ({ source, files: [[file, type]], parse: ([t]) => parse(t as string, { now }) })
  return [
    { source: 'nbkr', files: [[day === '2025-11-25' ? 'nbkr/daily-previous-day.xml' : 'nbkr/daily.xml', 'application/xml'], ['nbkr/weekly.xml', 'application/xml']], parse: ([d, w]) => parseNbkr(d as string, { now, ...(w !== undefined && { weekly: w }) }) },
    one('nbk', `nbk/get_rates-${dd}.11.2025.xml`, 'text/xml; charset=UTF-8', (t, o) => parseNbk(t, { ...o, asked: day })),
    one('cbu', `cbu/all-${day}.json`, 'application/json', (t, o) => parseCbu(t, { ...o, asked: day })),
    one('nbt', `nbt/export-${day}.xml`, 'text/xml;charset=UTF-8', (t, o) => parseNbt(t, { ...o, asked: day })),
    one('cbt', `cbt/${dd}112025.xml`, 'text/xml', (t, o) => parseCbt(t, { ...o, asked: day })),
    one('cbr', `cbr/XML_daily-${dd}.11.2025.xml`, 'text/xml; charset=windows-1251', parseCbr),
    one('cbr-xml-daily', 'cbr-xml-daily/daily_json-2025-11-26.js', 'application/javascript', parseCbrXmlDaily),
    one('open-er-api', `open-er-api/latest-USD-${day}.json`, 'application/json', parseOpenErApi),
    one('fawazahmed0', day === '2025-11-25' ? 'fawazahmed0/usd-2025-11-25.min.json' : 'fawazahmed0/usd-2025-11-26.json', 'application/json; charset=utf-8', parseFawazahmed0),
    one('frankfurter', `frankfurter/rates-USD-${day}.json`, 'application/json', parseFrankfurter)
  ]
}

/** The ten payloads of `day` read into memory, so that a measured cycle does no file I/O. */
export interface Recorded { day: Day, items: Array<{ source: SourceId, bytes: Array<[Buffer, string]>, parse: Payload['parse'] }> }

export function record (day: Day): Recorded {
  return {
    day,
    items: payloads(day).map((p) => ({ source: p.source, bytes: p.files.map(([f, type]) => [readFileSync(join(FIXTURES, f)), type]), parse: p.parse }))
  }
}

/** One poll cycle: decode and parse every payload, fold into the observations, reconcile. */
export function pollCycle (rec: Recorded, previous: Snapshot | undefined, history: Record<string, Fixing[]>, now = new Date(`${rec.day}T12:00:00.000Z`)): { rates: Snapshot['rates'], fixings: Record<string, Fixing>, observations: Observation[] } {
  const fetchedAt = new Date(`${rec.day}T09:00:00.000Z`)
  let observations: Observation[] = []
  for (const item of rec.items) {
    const quotes = item.parse(item.bytes.map(([b, type]) => decode(b, type)))
    observations = mergeObservations(observations, item.source, quotes, fetchedAt, CURRENCIES, now)
  }
  const { rates, fixings } = reconcile({
    currencies: CURRENCIES,
    quote: 'USD',
    observations,
    previous,
    history: (base) => history[base] ?? [],
    now,
    outlierPct: 1.5,
    staleAfterMs: 345_600_000
  })
  return { rates, fixings, observations }
}

/**
 * Writes FX_STATE_DIR/state.json as the embedded engine persists it: the snapshot of 2025-11-26 (with the
 * change since the 25th) at `seq`, and `days` of daily history per currency ending on that date. Staleness is
 * judged at `now`, as the service's periodic re-evaluation will judge it: the snapshot (and its ETag) stays put.
 */
export function writeState (dir: string, { seq = 42, days = 400, now = new Date() } = {}): Snapshot {
  const first = pollCycle(record('2025-11-25'), undefined, {})
  const history: Record<string, Fixing[]> = {}
  for (const [base, f] of Object.entries(first.fixings)) {
    // older fixings drift gently around the recorded value, so /v1/history carries realistic numbers
    history[base] = Array.from({ length: days - 1 }, (_, i) => {
      const inverse = f.inverse * (1 + 0.002 * Math.sin(i / 7))
      return { date: addDays(f.date, i - (days - 1)), price: 1 / inverse, inverse, basis: f.basis, sources: f.sources }
    }).concat([f])
  }
  const previous: Snapshot = { quote: 'USD', seq: seq - 1, updatedAt: '2025-11-25T12:00:00.000Z', rates: first.rates }
  const second = pollCycle(record('2025-11-26'), previous, history, now)
  for (const [base, f] of Object.entries(second.fixings)) history[base] = [...(history[base] ?? []).filter((h) => h.date !== f.date), f]
  const snapshot: Snapshot = { quote: 'USD', seq, updatedAt: '2025-11-26T12:00:00.000Z', rates: second.rates }
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, STATE_FILE), JSON.stringify({ format: 'fx-ticker/state', version: 1, snapshot, history, observations: second.observations }))
  return snapshot
}
