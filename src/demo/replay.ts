import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { addDays, toDmy, validIso } from '../domain/dates.js'

/** Which recorded day every source answers with, or `fail`: each source's recorded error page. */
export type ReplayDay = '2025-11-25' | '2025-11-26' | 'fail'

interface Recording { file: string, type: string, status?: number }
type Route = (day: ReplayDay) => Recording

const XML = 'text/xml; charset=UTF-8'
const JSON_TYPE = 'application/json'
const d = (day: ReplayDay): string => day.slice(8, 10)

/** Request path (after the /<source id> prefix) -> recorded payload, per source. */
const ROUTES: Array<[RegExp, Route]> = [
  [/^\/nbkr\/XML\/daily\.xml$/, (day) => day === 'fail'
    ? { file: 'nbkr/error-502.html', type: 'text/html', status: 502 }
    : { file: day === '2025-11-25' ? 'nbkr/daily-previous-day.xml' : 'nbkr/daily.xml', type: 'application/xml' }],
  [/^\/nbkr\/XML\/weekly\.xml$/, (day) => day === 'fail'
    ? { file: 'nbkr/error-502.html', type: 'text/html', status: 502 }
    : { file: 'nbkr/weekly.xml', type: 'application/xml' }],
  [/^\/nbk\/rss\/get_rates\.cfm$/, (day) => day === 'fail'
    ? { file: 'nbk/error-invalid-date.json', type: JSON_TYPE, status: 500 }
    : { file: `nbk/get_rates-${d(day)}.11.2025.xml`, type: XML }],
  [/^\/cbu\/en\/arkhiv-kursov-valyut\/json\/all\/[\d-]+\/?$/, (day) => day === 'fail'
    ? { file: 'cbu/empty.json', type: JSON_TYPE }
    : { file: `cbu/all-2025-11-${d(day)}.json`, type: JSON_TYPE }],
  [/^\/nbt\/en\/kurs\/export_xml\.php$/, (day) => day === 'fail'
    ? { file: 'nbkr/error-502.html', type: 'text/html', status: 502 }
    : { file: `nbt/export-2025-11-${d(day)}.xml`, type: 'text/xml;charset=UTF-8' }],
  [/^\/cbt\/kurs\/\d{4}\/\d{8}\.xml$/, (day) => day === 'fail'
    ? { file: 'cbt/403-forbidden.html', type: 'text/html', status: 403 }
    : { file: `cbt/${d(day)}112025.xml`, type: 'text/xml' }],
  [/^\/cbr\/scripts\/XML_daily\.asp$/, (day) => day === 'fail'
    ? { file: 'cbr/ddos-guard.html', type: 'text/html; charset=utf-8', status: 403 }
    : { file: `cbr/XML_daily-${d(day)}.11.2025.xml`, type: 'text/xml; charset=windows-1251' }],
  [/^\/cbr-xml-daily\/daily_json\.js$/, (day) => day === '2025-11-26'
    ? { file: 'cbr-xml-daily/daily_json-2025-11-26.js', type: 'application/javascript' }
    : { file: 'cbr-xml-daily/archive-2025-11-30-404.html', type: 'text/html', status: 404 }],
  [/^\/open-er-api\/v6\/latest\/USD$/, (day) => day === 'fail'
    ? { file: 'open-er-api/error-unsupported-code.json', type: JSON_TYPE }
    : { file: `open-er-api/latest-USD-2025-11-${d(day)}.json`, type: JSON_TYPE }],
  [/^\/fawazahmed0\/npm\/@fawazahmed0\/currency-api@[\w.-]+\/v1\/currencies\/usd(\.min)?\.json$/, (day) => day === 'fail'
    ? { file: 'fawazahmed0/jsdelivr-404.txt', type: 'text/plain; charset=utf-8', status: 404 }
    : { file: day === '2025-11-25' ? 'fawazahmed0/usd-2025-11-25.min.json' : 'fawazahmed0/usd-2025-11-26.json', type: 'application/json; charset=utf-8' }],
  [/^\/frankfurter\/v2\/rates$/, (day) => day === 'fail'
    ? { file: 'frankfurter/error-404.json', type: JSON_TYPE, status: 404 }
    : { file: `frankfurter/rates-USD-2025-11-${d(day)}.json`, type: JSON_TYPE }]
]

export interface ReplayOptions {
  /** Folder of recorded payloads, one sub-folder per source id. */
  fixturesDir: string
  day: ReplayDay
  /** Moves every date in the payloads by this many days, so replayed fixings look current. */
  shiftDays?: number
  /** Per-source override: a day, or a function that answers the request itself. */
  overrides?: Record<string, ReplayDay | ((req: IncomingMessage, res: ServerResponse) => void)>
}

export interface ReplayServer {
  /** Origin of the source `id`, for FX_SOURCE_<ID>_URL. */
  urlOf: (id: string) => string
  url: string
  setDay: (day: ReplayDay) => void
  setOverride: (id: string, value: ReplayDay | ((req: IncomingMessage, res: ServerResponse) => void) | undefined) => void
  /** Requests answered so far, per source id. */
  hits: () => Record<string, number>
  close: () => Promise<void>
}

/** Serves recorded upstream payloads on loopback, byte for byte, with ETags and 304s, as the sources would. */
export async function startReplay (options: ReplayOptions, port = 0): Promise<ReplayServer> {
  let day = options.day
  const overrides = new Map(Object.entries(options.overrides ?? {}))
  const hits: Record<string, number> = {}
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const id = path.split('/')[1] ?? ''
    hits[id] = (hits[id] ?? 0) + 1
    const override = overrides.get(id)
    if (typeof override === 'function') return override(req, res)
    const route = ROUTES.find(([re]) => re.test(path))
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    const rec = route[1](override ?? day)
    const body = shiftDates(readFileSync(join(options.fixturesDir, rec.file)), options.shiftDays ?? 0)
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`
    const status = rec.status ?? 200
    if (status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end()
      return
    }
    res.writeHead(status, { 'content-type': rec.type, ...(status === 200 && { etag }) }).end(body)
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    urlOf: (id) => `${url}/${id}`,
    setDay: (next) => { day = next },
    setOverride: (id, value) => { if (value === undefined) overrides.delete(id); else overrides.set(id, value) },
    hits: () => ({ ...hits }),
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

/**
 * Shifts every date a payload carries, in each notation the recorded upstreams use: ISO dates, also inside
 * time stamps (`2025-11-26T11:30:00+03:00`), DD.MM.YYYY and DD/MM/YYYY, YYYY/MM/DD paths (JSON-escaped
 * too), RFC 1123 dates with their weekday, and Unix seconds in time-stamp fields. Digits around a match
 * rule it out, so values and hashes are left alone. All of it is ASCII, so windows-1251 bytes survive a
 * latin1 round trip.
 */
export function shiftDates (bytes: Buffer, days: number): Buffer {
  if (days === 0) return bytes
  const move = (y: string, mo: string, da: string): string | undefined => {
    const iso = validIso(`${y}-${mo}-${da}`)
    return iso === undefined ? undefined : addDays(iso, days)
  }
  const text = bytes.toString('latin1')
    .replace(/(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)/g, (m, y: string, mo: string, da: string) => move(y, mo, da) ?? m)
    .replace(/(?<!\d)(\d{2})([./])(\d{2})\2(\d{4})(?!\d)/g, (m, da: string, sep: string, mo: string, y: string) => {
      const iso = move(y, mo, da)
      return iso === undefined ? m : toDmy(iso, sep)
    })
    .replace(/(?<!\d)(\d{4})(\\?\/)(\d{2})\2(\d{2})(?!\d)/g, (m, y: string, sep: string, mo: string, da: string) => {
      const iso = move(y, mo, da)
      return iso === undefined ? m : iso.split('-').join(sep)
    })
    .replace(/\b(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4})\b/g, (m, da: string, mon: string, y: string) => {
      const iso = move(y, String(MONTHS.indexOf(mon) + 1).padStart(2, '0'), da)
      if (iso === undefined) return m
      const weekday = WEEKDAYS[new Date(`${iso}T00:00:00Z`).getUTCDay()] ?? ''
      return `${weekday}, ${iso.slice(8, 10)} ${MONTHS[Number(iso.slice(5, 7)) - 1] ?? ''} ${iso.slice(0, 4)}`
    })
    .replace(/("(?:\w+_unix|timestamp)"\s*:\s*)(\d{9,10})(?!\d)/gi, (_m, key: string, n: string) => `${key}${Number(n) + days * 86_400}`)
  return Buffer.from(text, 'latin1')
}

/** Days from a recorded day to today's UTC date: the shift that makes the recording look current. */
export function daysSince (recordedDay: string, now: Date = new Date()): number {
  return Math.round((Date.parse(now.toISOString().slice(0, 10)) - Date.parse(recordedDay)) / 86_400_000)
}
