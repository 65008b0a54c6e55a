import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { addDays, validIso } from '../domain/dates.js'
import { isSourceId } from '../domain/sources.js'
import type { SourceId } from '../domain/sources.js'
import { ARCHIVE_TEMPLATES, renderArchive } from './archive-formats.js'
import { archiveRate, archiveValueDate } from './archive-rate.js'
import { nbkrHistoryPage, nbkrHistoryRange } from './nbkr-history-page.js'

/** How an archive answers a chosen date instead: HTTP 500 with the source's error body, a 200 HTML page, or a 200 payload dated after the day asked. */
export type ArchiveFault = 'error' | 'html' | 'wrong-date'

/** Faults per source id, per date asked (YYYY-MM-DD). */
export type ArchiveFaults = Partial<Record<string, Readonly<Record<string, ArchiveFault>>>>

export interface ArchiveAnswer { status: number, type: string, body: Buffer }

const ymd = (y?: string, m?: string, d?: string): string | undefined => validIso(`${y ?? ''}-${m ?? ''}-${d ?? ''}`)
const iso = (text?: string): string | undefined => validIso(text ?? '')

/** The date a dated archive URL asks for (path after the /<id> prefix, query included), per source. */
const DATED_URLS: Readonly<Partial<Record<SourceId, (url: string) => string | undefined>>> = {
  nbk: (url) => {
    const m = /^\/rss\/get_rates\.cfm\?(?:.*&)?fdate=(\d{2})[./](\d{2})[./](\d{4})(?:&|$)/.exec(url)
    return m === null ? undefined : ymd(m[3], m[2], m[1])
  },
  cbu: (url) => iso(/^\/\w+\/arkhiv-kursov-valyut\/json\/all\/(\d{4}-\d{2}-\d{2})\/?$/.exec(url)?.[1]),
  nbt: (url) => iso(/^\/\w+\/kurs\/export_xml\.php\?(?:.*&)?date=(\d{4}-\d{2}-\d{2})(?:&|$)/.exec(url)?.[1]),
  cbt: (url) => {
    const m = /^\/kurs\/(\d{4})\/(\d{2})(\d{2})(\d{4})\.xml$/.exec(url)
    return m === null || m[1] !== m[4] ? undefined : ymd(m[4], m[3], m[2])
  },
  cbr: (url) => {
    const m = /^\/scripts\/XML_daily\.asp\?(?:.*&)?date_req=(\d{2})[./](\d{2})[./](\d{4})(?:&|$)/.exec(url)
    return m === null ? undefined : ymd(m[3], m[2], m[1])
  },
  'cbr-xml-daily': (url) => {
    const m = /^\/archive\/(\d{4})\/(\d{2})\/(\d{2})\/daily_json\.js$/.exec(url)
    return m === null ? undefined : ymd(m[1], m[2], m[3])
  },
  frankfurter: (url) => iso(/^\/v2\/rates\?(?:.*&)?date=(\d{4}-\d{2}-\d{2})(?:&|$)/.exec(url)?.[1]),
  nbkr: (url) => nbkrHistoryRange(url)?.to,
  fawazahmed0: (url) => iso(/^\/npm\/@fawazahmed0\/currency-api@(\d{4}-\d{2}-\d{2})\/v1\/currencies\/usd(?:\.min)?\.json$/.exec(url)?.[1])
}

/** The date a request to source `id` asks its archive for, or undefined when it is not a dated archive URL. */
export function archiveDateOf (id: string, url: string): string | undefined {
  return isSourceId(id) ? DATED_URLS[id]?.(url) : undefined
}

/** Each archive's recorded error answer: its body for a 500 fault, and for 404s. */
const FAILURES: Readonly<Partial<Record<SourceId, { file: string, type: string }>>> = {
  nbk: { file: 'nbk/error-invalid-date.json', type: 'application/json' },
  cbu: { file: 'nbkr/error-502.html', type: 'text/html' },
  nbt: { file: 'nbkr/error-502.html', type: 'text/html' },
  cbt: { file: 'cbt/404-sunday.html', type: 'text/html' },
  cbr: { file: 'cbr/ddos-guard.html', type: 'text/html; charset=utf-8' },
  'cbr-xml-daily': { file: 'cbr-xml-daily/archive-2025-11-30-404.html', type: 'text/html' },
  frankfurter: { file: 'frankfurter/error-404.json', type: 'application/json' },
  fawazahmed0: { file: 'fawazahmed0/jsdelivr-404.txt', type: 'text/plain; charset=utf-8' }
}

const HTML_PAGE = '<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title></head>\n<body><h1>Service Temporarily Unavailable</h1><p>The site is under maintenance.</p></body></html>\n'
/** What XML_daily.asp answers for a date it cannot serve. */
const CBR_PARAMETER_ERROR = '<?xml version="1.0" encoding="windows-1251"?><ValCurs>Error in parameters</ValCurs>'

export interface ArchiveOptions {
  /** Folder of recorded payloads, one sub-folder per source id. */
  fixturesDir: string
  shiftDays: number
  faults: () => ArchiveFaults
}

export interface Archive {
  /** The answer of `id`'s archive to a request for `asked` (from `from`, for a range), when its own today is `today`. */
  answer: (id: SourceId, asked: string, today: string, from?: string) => ArchiveAnswer
  /** The configured fault of `id` for `asked`, if any. */
  faultOf: (id: SourceId, asked: string) => ArchiveFault | undefined
}

/** The banks' archives for any date, rendered from the recorded payloads with archiveRate's values. */
export function createArchive ({ fixturesDir, shiftDays, faults }: ArchiveOptions): Archive {
  const files = new Map<string, Buffer>()
  const read = (file: string): Buffer => {
    const bytes = files.get(file) ?? readFileSync(join(fixturesDir, file))
    files.set(file, bytes)
    return bytes
  }
  const rateOn = (base: string, date: string): number => archiveRate(base, date, shiftDays)
  const payload = (id: SourceId, date: string): ArchiveAnswer => {
    const template = ARCHIVE_TEMPLATES[id]
    if (template === undefined) throw new RangeError(`${id} has no archive`)
    return { status: 200, type: template.type, body: renderArchive(id, read(template.file), date, rateOn) }
  }
  const failure = (id: SourceId, status: number): ArchiveAnswer => {
    const rec = FAILURES[id] ?? { file: 'nbkr/error-502.html', type: 'text/html' }
    return { status, type: rec.type, body: read(rec.file) }
  }
  const future = (id: SourceId, today: string): ArchiveAnswer => {
    switch (id) {
      case 'nbt': return payload(id, today) // NBT answers any date out of its range with today's snapshot
      case 'cbu': return payload(id, archiveValueDate(id, today) ?? today) // the last rate in force
      case 'nbk': return failure(id, 500)
      case 'cbr': return { status: 200, type: 'text/xml; charset=windows-1251', body: Buffer.from(CBR_PARAMETER_ERROR, 'latin1') }
      default: return failure(id, 404)
    }
  }
  const faultOf = (id: SourceId, asked: string): ArchiveFault | undefined => faults()[id]?.[asked]
  return {
    faultOf,
    answer (id, asked, today, from = asked) {
      const fault = faultOf(id, asked)
      if (fault === 'error') return failure(id, 500)
      if (fault === 'html') return { status: 200, type: 'text/html; charset=utf-8', body: Buffer.from(HTML_PAGE) }
      if (id === 'nbkr') {
        // a page of rows: a wrong date moves every row a day later, the last one past the range asked
        const move = fault === 'wrong-date' ? 1 : 0
        const last = asked > today ? today : asked
        const published = (d: string): boolean => archiveValueDate(id, addDays(d, -move)) === addDays(d, -move)
        return { status: 200, type: 'text/html; charset=utf-8', body: nbkrHistoryPage(addDays(from, move), addDays(last, move), published, (d) => rateOn('KGS', addDays(d, -move))) }
      }
      if (fault === 'wrong-date') return payload(id, addDays(asked, 1))
      if (asked > today) return future(id, today)
      const date = archiveValueDate(id, asked)
      return date === undefined ? failure(id, 404) : payload(id, date)
    }
  }
}
