import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { daysSince, shiftDates, startReplay } from '../../src/demo/replay.js'
import type { ReplayDay } from '../../src/demo/replay.js'
import { addDays } from '../../src/domain/dates.js'
import type { Quote } from '../../src/domain/rate.js'
import { SOURCE_IDS } from '../../src/domain/sources.js'
import { createSources } from '../../src/sources/index.js'
import { fetchContext } from '../support/fetch-context.js'
import { FIXTURES } from '../support/fixture-server.js'

const RECORDED: Record<Exclude<ReplayDay, 'fail'>, string> = { '2025-11-25': '2025-11-25', '2025-11-26': '2025-11-26' }

/** What every source makes of the replay of `day` moved by `shiftDays`: its quotes, or its error code. */
async function pollAll (t: Test, day: ReplayDay, shiftDays: number): Promise<Map<string, Quote[] | string>> {
  const replay = await startReplay({ fixturesDir: FIXTURES, day, shiftDays })
  t.teardown(() => replay.close())
  const sources = createSources({ sources: SOURCE_IDS, sourceUrls: Object.fromEntries(SOURCE_IDS.map((id) => [id, replay.urlOf(id)])) })
  const now = new Date(Date.parse(`${addDays(RECORDED[day as keyof typeof RECORDED], shiftDays)}T09:00:00Z`))
  const out = new Map<string, Quote[] | string>()
  for (const source of sources) {
    try {
      out.set(source.id, await source.fetchQuotes(fetchContext(t, { now })))
    } catch (err) {
      out.set(source.id, (err as { code?: string }).code ?? String(err))
    }
  }
  return out
}

for (const shift of [daysSince('2025-11-26'), 400, 97]) {
  for (const day of ['2025-11-25', '2025-11-26'] as const) {
    t.test(`every source reads the replay of ${day} moved by ${shift} days as that many days later`, async (t) => {
      const recorded = await pollAll(t, day, 0)
      const moved = await pollAll(t, day, shift)
      for (const id of SOURCE_IDS) {
        const before = recorded.get(id)
        const after = moved.get(id)
        if (typeof before === 'string') {
          t.equal(after, before, `${id}: fails as recorded`)
          continue
        }
        t.same(after, before?.map((q) => ({ ...q, date: addDays(q.date, shift) })), `${id}: same quotes, dates moved`)
      }
    })
  }
}

t.test('the replayed cbr-xml-daily payload is dated today, as the other sources are', async (t) => {
  const today = new Date().toISOString().slice(0, 10)
  const moved = await pollAll(t, '2025-11-26', daysSince('2025-11-26'))
  for (const id of ['cbr-xml-daily', 'cbr', 'nbk', 'cbu', 'open-er-api']) {
    const quotes = moved.get(id)
    t.ok(Array.isArray(quotes) && quotes.length > 0 && quotes.every((q) => q.date === today), `${id} dated ${today}`)
  }
})

t.test('no recorded date survives a shift, in any notation', async (t) => {
  const DATE = /(?<!\d)(?:\d{4}(?:-|\\?\/)\d{2}(?:-|\\?\/)\d{2}|\d{2}[./]\d{2}[./]\d{4})(?!\d)|\b\d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b/g
  for (const dir of readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(FIXTURES, dir.name))) {
      const bytes = readFileSync(join(FIXTURES, dir.name, file))
      const dates = new Set(bytes.toString('latin1').match(DATE) ?? [])
      const shifted = shiftDates(bytes, 400).toString('latin1')
      for (const date of dates) t.notOk(shifted.includes(date), `${dir.name}/${file}: ${date} moved`)
    }
  }
})

t.test('time stamps, weekdays, paths and Unix seconds move with the date; values and hashes do not', async (t) => {
  const text = [
    '"Date": "2025-11-26T11:30:00+03:00"', '"PreviousURL": "\\/\\/www.cbr-xml-daily.ru\\/archive\\/2025\\/11\\/25\\/daily_json.js"',
    '"time_last_update_utc": "Wed, 26 Nov 2025 00:09:21 +0000"', '"time_last_update_unix": 1764115761',
    '<ValCurs Date="26.11.2025">', 'date=26/11/2025', '"Value": 2025.1126', '"hash": "a20251126f"', '"id": 120251126'
  ].join('\n')
  const out = shiftDates(Buffer.from(text, 'latin1'), 36).toString('latin1')
  t.match(out, '"Date": "2026-01-01T11:30:00+03:00"')
  t.match(out, '\\/archive\\/2025\\/12\\/31\\/daily_json.js')
  t.match(out, '"Thu, 01 Jan 2026 00:09:21 +0000"')
  t.match(out, `"time_last_update_unix": ${1764115761 + 36 * 86_400}`)
  t.match(out, '<ValCurs Date="01.01.2026">')
  t.match(out, 'date=01/01/2026')
  t.match(out, '"Value": 2025.1126')
  t.match(out, '"hash": "a20251126f"')
  t.match(out, '"id": 120251126')
  t.equal(shiftDates(Buffer.from(text), 0).toString(), text, 'no shift, same bytes')
})

t.test('daysSince counts whole UTC days to today', async (t) => {
  t.equal(daysSince('2025-11-26', new Date('2025-11-26T23:59:00Z')), 0)
  t.equal(daysSince('2025-11-26', new Date('2026-03-01T00:00:01Z')), 95)
})
