import t from 'tap'
import { nbkrHistoryPage } from '../../src/demo/nbkr-history-page.js'
import { isWeekday } from '../../src/domain/dates.js'
import { isRatesError } from '../../src/domain/errors.js'
import { nbkrHistoryPath, parseNbkrHistory } from '../../src/sources/nbkr-history.js'
import { createNbkrSource } from '../../src/sources/nbkr.js'
import { isRangeSource } from '../../src/sources/url-source.js'
import { fetchContext } from '../support/fetch-context.js'
import { fixtureServer } from '../support/fixture-server.js'

const NOW = new Date('2026-11-28T09:00:00Z')
const kgs = (d: string): number => 87 + Number(d.slice(8, 10)) / 100
const page = (from: string, to: string): string => nbkrHistoryPage(from, to, isWeekday, kgs).toString('utf8')
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (err) {
    return isRatesError(err) ? err.code : String(err)
  }
  return undefined
}

t.test('a page of rows: one KGS fixing per business day listed, with four decimals of precision', async (t) => {
  const quotes = parseNbkrHistory(page('2026-11-02', '2026-11-15'), { now: NOW, from: '2026-11-02', to: '2026-11-15' })
  t.same(quotes.map((q) => q.date).sort(), ['02', '03', '04', '05', '06', '09', '10', '11', '12', '13'].map((d) => `2026-11-${d}`), 'weekends have no row')
  for (const q of quotes) {
    t.equal(q.base, 'KGS')
    t.equal(q.inverse, Number(kgs(q.date).toFixed(4)), `${q.date}: KGS per dollar`)
    t.ok(Math.abs(q.relErr - 0.00005 / q.inverse) < 1e-15, `${q.date}: half a unit of the fourth decimal`)
  }
  const loose = '<table>\n<tr>\n <td> <!--date--> 05.11.2026 <!--date--> </td>\n <td><b><!--value-->87,4500<!--value--></b></td></tr><tr><td><!--date-->05.11.2026<!--date--></td><td><!--value-->99,0000<!--value--></td></tr></table>'
  t.same(parseNbkrHistory(loose, { now: NOW, from: '2026-11-01', to: '2026-11-30' }).map((q) => [q.date, q.inverse]), [['2026-11-05', 87.45]], 'markup and spaces around the markers, a repeated day read once')
  const old = parseNbkrHistory(page('2021-03-01', '2021-03-31'), { now: NOW, from: '2021-03-01', to: '2021-03-31' })
  t.equal(old.length, 23, 'years back: each row judged by its own day, not as a stale latest')
})

t.test('a page that is not the history asked for is refused, whole', async (t) => {
  const opts = { now: NOW, from: '2026-11-02', to: '2026-11-15' }
  t.equal(codeOf(() => parseNbkrHistory(page('2026-11-02', '2026-11-16'), opts)), 'RATES_SOURCE_DATE', 'a row after the range')
  t.equal(codeOf(() => parseNbkrHistory(page('2026-10-30', '2026-11-15'), opts)), 'RATES_SOURCE_DATE', 'a row before the range')
  t.equal(codeOf(() => parseNbkrHistory('<html><body><h1>502 Bad Gateway</h1></body></html>', opts)), 'RATES_SOURCE_EMPTY', 'an error page has no rows: no "no publications"')
  t.equal(codeOf(() => parseNbkrHistory('<!--date-->31.02.2026<!--date--><!--value-->87,45<!--value-->', opts)), 'RATES_SOURCE_PARSE', 'an impossible date')
  t.equal(codeOf(() => parseNbkrHistory('<!--date-->05.11.2026<!--date--><!--value-->n/a<!--value-->', opts)), 'RATES_SOURCE_PARSE', 'a value that is no number')
  t.equal(codeOf(() => parseNbkrHistory(page('2026-11-29', '2026-12-04'), { now: NOW, from: '2026-11-29', to: '2026-12-04' })), 'RATES_SOURCE_DATE', 'days after tomorrow')
})

t.test('fetchRange asks the dollar\'s history page for exactly the range', async (t) => {
  const seen: string[] = []
  const server = await fixtureServer(t, (req, res) => {
    seen.push(req.url ?? '')
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page('2026-11-02', '2026-11-06'))
  })
  const source = createNbkrSource({ origin: `${server.url}/nbkr` })
  t.ok(isRangeSource(source))
  const quotes = await source.fetchRange(fetchContext(t, { now: NOW }), '2026-11-02', '2026-11-06')
  t.equal(quotes.length, 5)
  t.same(seen, [`/nbkr${nbkrHistoryPath('2026-11-02', '2026-11-06')}`])
  t.equal(nbkrHistoryPath('2026-11-02', '2026-11-06'), '/index1.jsp?item=1562&lang=ENG&valuta_id=15&beg_day=02&beg_month=11&beg_year=2026&end_day=06&end_month=11&end_year=2026')
})
