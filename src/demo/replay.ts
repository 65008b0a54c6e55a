import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { addDays, civilDateAt } from '../domain/dates.js'
import { SOURCE_INFO, isSourceId } from '../domain/sources.js'
import type { SourceId } from '../domain/sources.js'
import { archiveDateOf, createArchive } from './archive.js'
import type { ArchiveAnswer, ArchiveFaults } from './archive.js'
import { ARCHIVE_ANCHOR } from './archive-rate.js'
import { nbkrHistoryRange } from './nbkr-history-page.js'

import { shiftDates } from './shift.js'

export { archiveRate, archiveValueDate } from './archive-rate.js'
export type { ArchiveFault, ArchiveFaults } from './archive.js'
export { daysSince, shiftDates } from './shift.js'

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
  /** Per source, per date asked: archive answers replaced by a fault. */
  archiveFaults?: ArchiveFaults
  /** The server's clock (epoch ms), Date.now by default: it decides which asked dates are in the future. */
  clock?: () => number
}

/** One request as it arrived. */
export interface ReplayRequest {
  id: string
  /** Path and query after the /<id> prefix: what the source asked of its upstream. */
  path: string
  /** The date a dated URL asked for. */
  date?: string
  /** Arrival, epoch ms of the server's clock. */
  at: number
}

export interface ReplayServer {
  /** Origin of the source `id`, for FX_SOURCE_<ID>_URL. */
  urlOf: (id: string) => string
  url: string
  setDay: (day: ReplayDay) => void
  setOverride: (id: string, value: ReplayDay | ((req: IncomingMessage, res: ServerResponse) => void) | undefined) => void
  /** Replaces the archive faults. */
  setArchiveFaults: (faults: ArchiveFaults) => void
  /** Requests answered so far, per source id. */
  hits: () => Record<string, number>
  /** Every request so far, oldest first. */
  requests: () => ReplayRequest[]
  close: () => Promise<void>
}

/** Sources whose live poll asks the dated URL for today: the recorded days answer it, the archive the rest. */
const LIVE_DATED = new Set<string>(['nbk', 'cbu', 'nbt', 'cbt'])

/**
 * Serves recorded upstream payloads on loopback, byte for byte, with ETags and 304s, as the sources would.
 * Dated archive URLs are answered for any date from createArchive, except where a live poll asks a bank's
 * dated URL: from today (the clock's) on, and on the recorded days moved by shiftDays, the recording answers.
 */
export async function startReplay (options: ReplayOptions, port = 0): Promise<ReplayServer> {
  let day = options.day
  let faults = options.archiveFaults ?? {}
  const shift = options.shiftDays ?? 0
  const clock = options.clock ?? Date.now
  const overrides = new Map(Object.entries(options.overrides ?? {}))
  const hits: Record<string, number> = {}
  const log: ReplayRequest[] = []
  const archive = createArchive({ fixturesDir: options.fixturesDir, shiftDays: shift, faults: () => faults })
  const clockToday = (id: SourceId): string => civilDateAt(clock(), SOURCE_INFO[id].utcOffsetHours)
  const todayOf = (id: SourceId): string => {
    const recorded = addDays(ARCHIVE_ANCHOR, shift)
    const today = clockToday(id)
    return today > recorded ? today : recorded
  }
  const servedLive = (id: SourceId, asked: string): boolean => {
    if (!LIVE_DATED.has(id) || archive.faultOf(id, asked) !== undefined) return false
    if (id === 'cbt' && asked > todayOf(id)) return false // CBT has no file for a day not yet published
    const override = overrides.get(id)
    const live = typeof override === 'string' ? override : day
    const first = addDays(live === 'fail' ? '2025-11-25' : live, shift)
    return asked >= clockToday(id) || (asked >= first && asked <= addDays(ARCHIVE_ANCHOR, shift))
  }
  const send = (req: IncomingMessage, res: ServerResponse, { status, type, body }: ArchiveAnswer): void => {
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`
    if (status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end()
      return
    }
    res.writeHead(status, { 'content-type': type, ...(status === 200 && { etag }) }).end(body)
  }
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/'
    const path = url.split('?')[0] ?? '/'
    const id = path.split('/')[1] ?? ''
    const rest = url.slice(id.length + 1)
    const asked = archiveDateOf(id, rest)
    log.push({ id, path: rest, ...(asked !== undefined && { date: asked }), at: clock() })
    hits[id] = (hits[id] ?? 0) + 1
    const override = overrides.get(id)
    if (typeof override === 'function') return override(req, res)
    if (asked !== undefined && id === 'nbkr') return send(req, res, archive.answer(id, asked, todayOf(id), nbkrHistoryRange(rest)?.from))
    if (asked !== undefined && isSourceId(id) && !servedLive(id, asked)) return send(req, res, archive.answer(id, asked, todayOf(id)))
    const route = ROUTES.find(([re]) => re.test(path))
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    const rec = route[1](override ?? day)
    const body = shiftDates(readFileSync(join(options.fixturesDir, rec.file)), shift)
    send(req, res, { status: rec.status ?? 200, type: rec.type, body })
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    urlOf: (id) => `${url}/${id}`,
    setDay: (next) => { day = next },
    setOverride: (id, value) => { if (value === undefined) overrides.delete(id); else overrides.set(id, value) },
    setArchiveFaults: (next) => { faults = next },
    hits: () => ({ ...hits }),
    requests: () => log.map((r) => ({ ...r })),
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
