import t from 'tap'
import type { Test } from 'tap'
import { addDays, isWeekday } from '../../src/domain/dates.js'
import type { Fixing } from '../../src/domain/rate.js'
import { HistoriesSchema, HistorySchema } from '../../src/routes/schemas.js'
import { TODAY, datesWithin, historyApp, seeded } from './history-seed.js'

const history = seeded()
const dates = (body: { fixings: Array<{ date: string }> }): string[] => body.fixings.map((f) => f.date)

t.test('days counts calendar days back from the UTC date, through the newest fixing', async (t) => {
  const app = await historyApp(t)
  const res = await app.inject('/v1/history/KZT')
  t.equal(res.statusCode, 200)
  const body = HistorySchema.parse(res.json())
  t.match(body, { pair: 'KZT/USD', base: 'KZT', quote: 'USD' })
  const from = addDays(TODAY, -29)
  t.equal(from, '2026-02-15', 'the default is 30 days')
  t.same(dates(body), datesWithin(history, 'KZT', from), 'every fixing of the last 30 days, oldest first')
  t.equal(dates(body)[0], '2026-02-16', 'the Sunday it starts on has no fixing')
  t.equal(dates(body).at(-1), TODAY)
  t.notOk(dates(body).some((d) => !isWeekday(d)), 'weekends are absent, as in the history')
  t.same(body.fixings.at(-1), history.KZT?.at(-1), 'price, inverse, basis and sources as stored')

  t.same(dates((await app.inject('/v1/history/KZT?days=1')).json()), [TODAY])
  t.same(dates((await app.inject('/v1/history/UZS?days=1')).json()), [TODAY, '2026-03-17'], 'a fixing dated tomorrow is served')
  t.same(dates((await app.inject('/v1/history/KZT?days=3')).json()), [TODAY], 'the weekend before holds nothing')
  const year = (await app.inject('/v1/history/kzt?days=400')).json()
  t.same(dates(year), datesWithin(history, 'KZT', addDays(TODAY, -399)), 'days up to FX_HISTORY_DAYS')
  t.equal((await app.inject('/v1/history/KZT?days=401')).statusCode, 400)
})

t.test('the range follows the app clock across midnight UTC', async (t) => {
  let now = new Date(`${TODAY}T23:59:59Z`)
  const app = await historyApp(t, { now: () => now })
  t.same(dates((await app.inject('/v1/history/KZT?days=2')).json()), ['2026-03-16'])
  now = new Date('2026-03-17T00:00:01Z')
  t.same(dates((await app.inject('/v1/history/UZS?days=1')).json()), ['2026-03-17'])
})

t.test('from and to are inclusive', async (t) => {
  const app = await historyApp(t)
  const cases: Array<[string, string[]]> = [
    ['from=2026-01-05&to=2026-01-09', ['2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09']],
    ['from=2026-01-03&to=2026-01-11', ['2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09']],
    ['from=2026-01-07&to=2026-01-07', ['2026-01-07']],
    ['from=2026-01-10&to=2026-01-11', []],
    ['from=2026-03-12', ['2026-03-12', '2026-03-13', '2026-03-16']],
    ['to=2026-01-30', datesWithin(history, 'KZT', '2026-01-01', '2026-01-30')],
    ['from=2024-12-01&to=2025-02-04', ['2025-02-03', '2025-02-04']],
    ['from=2026-04-01', []]
  ]
  for (const [query, expected] of cases) {
    const res = await app.inject(`/v1/history/KZT?${query}`)
    t.equal(res.statusCode, 200, query)
    t.same(dates(res.json()), expected, query)
  }
  t.equal(dates((await app.inject('/v1/history/KZT?to=2026-01-30')).json())[0], '2026-01-01', 'a lone to takes the 30 days ending on it')
  t.same(dates((await app.inject('/v1/history/UZS?from=2026-03-16')).json()), ['2026-03-16', '2026-03-17'])
})

t.test('every refusal is a 400 naming its parameter', async (t) => {
  const app = await historyApp(t)
  const first = '2025-03-01'
  const cases: Array<[string, string]> = [
    ['/v1/history/KZT?days=0', 'days'],
    ['/v1/history/KZT?days=abc', 'days'],
    ['/v1/history/KZT?days=1.5', 'days'],
    ['/v1/history/KZT?days=401', 'days'],
    ['/v1/history/KZT?days=5&from=2026-03-01', 'days'],
    ['/v1/history/KZT?days=5&to=2026-03-01', 'days'],
    ['/v1/history/KZT?from=2026-02-30', 'from'],
    ['/v1/history/KZT?from=2026-3-1', 'from'],
    ['/v1/history/KZT?from=yesterday', 'from'],
    ['/v1/history/KZT?to=2025-13-01', 'to'],
    ['/v1/history/KZT?to=2025-02-29', 'to'],
    ['/v1/history/KZT?from=2026-03-02&to=2026-03-01', 'from'],
    [`/v1/history/KZT?from=${first}&to=${addDays(first, 400)}`, 'from'],
    [`/v1/history/KZT?from=${addDays(TODAY, -400)}`, 'from'],
    ['/v1/history/KZT?format=xml', 'format'],
    ['/v1/history/KZT?dayz=3', 'dayz'],
    ['/v1/history/K1', 'base'],
    ['/v1/history?symbols=KZT,EUR', 'symbols'],
    ['/v1/history?symbols=', 'symbols'],
    ['/v1/history', 'symbols'],
    ['/v1/history?symbols=KZT&from=2026-02-31', 'from'],
    ['/v1/history?symbols=KZT&days=401', 'days'],
    ['/v1/history?symbols=KZT&days=2&to=2026-03-01', 'days']
  ]
  for (const [url, param] of cases) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 400, url)
    t.equal(res.json().error, 'RATES_BAD_REQUEST', url)
    t.match(res.json().message, new RegExp(`(^|\\s)${param}: |"${param}"`), `${url} names ${param}`)
  }
  t.equal((await app.inject(`/v1/history/KZT?from=${first}&to=${addDays(first, 399)}`)).statusCode, 200, 'exactly 400 days is served')
  t.equal((await app.inject(`/v1/history/KZT?from=${addDays(TODAY, -399)}`)).statusCode, 200)
})

t.test('the widest range follows FX_HISTORY_DAYS, 400 when it is 0', async (t) => {
  const narrow = await historyApp(t, { env: { FX_HISTORY_DAYS: '100' } })
  t.equal((await narrow.inject('/v1/history/KZT?days=100')).statusCode, 200)
  const wide = await narrow.inject('/v1/history/KZT?days=101')
  t.equal(wide.statusCode, 400)
  t.match(wide.json().message, /^days: at most 100/)
  t.equal((await narrow.inject(`/v1/history/KZT?from=2026-01-01&to=${addDays('2026-01-01', 100)}`)).statusCode, 400)
  const off = await historyApp(t, { env: { FX_HISTORY_DAYS: '0' } })
  t.equal((await off.inject('/v1/history/KZT?days=400')).statusCode, 200)
  t.equal((await off.inject('/v1/history/KZT?days=401')).statusCode, 400)
})

t.test('a base the service does not serve is 404', async (t) => {
  const app = await historyApp(t)
  const res = await app.inject('/v1/history/EUR?days=5')
  t.equal(res.statusCode, 404)
  t.match(res.json(), { error: 'RATES_NOT_FOUND', message: /EUR\/USD/ })
})

t.test('several bases come in the order asked, each as its own history answer', async (t) => {
  const app = await historyApp(t)
  const res = await app.inject('/v1/history?symbols=uzs,KZT,TJS,UZS&from=2026-03-10')
  t.equal(res.statusCode, 200)
  const body = HistoriesSchema.parse(res.json())
  t.equal(body.quote, 'USD')
  t.same(body.series.map((s) => s.base), ['UZS', 'KZT', 'TJS'], 'as asked, a repeated base once')
  t.same(body.series[0], (await app.inject('/v1/history/UZS?from=2026-03-10')).json())
  t.same(body.series[1], (await app.inject('/v1/history/KZT?from=2026-03-10')).json())
  t.same(body.series[2], { pair: 'TJS/USD', base: 'TJS', quote: 'USD', fixings: [] }, 'a served base without history is empty')
  const kzt = (await app.inject('/v1/history?symbols=KZT')).json()
  t.same(kzt.series[0], (await app.inject('/v1/history/KZT')).json(), 'the same range defaults')
})

interface Row { date: string, base: string, quote: string, price: number, inverse: number, basis: string }

/** Parses the CSV back, checking its framing: CRLF after every line, a header, six fields a row. */
function parseCsv (t: Test, text: string): Row[] {
  t.ok(text.endsWith('\r\n'), 'the last line ends in CRLF')
  const lines = text.split('\r\n').slice(0, -1)
  t.notOk(lines.some((l) => l.includes('\n')), 'no bare LF')
  t.equal(lines[0], 'date,base,quote,price,inverse,basis')
  return lines.slice(1).map((line) => {
    const [date = '', base = '', quote = '', price = '', inverse = '', basis = '', ...rest] = line.split(',')
    t.equal(rest.length, 0)
    return { date, base, quote, price: Number(price), inverse: Number(inverse), basis }
  })
}

const rowsOf = (body: { base: string, quote: string, fixings: Fixing[] }): Row[] =>
  body.fixings.map((f) => ({ date: f.date, base: body.base, quote: body.quote, price: f.price, inverse: f.inverse, basis: f.basis }))

t.test('CSV carries the same fixings at full precision, one row each, oldest first', async (t) => {
  const app = await historyApp(t)
  const json = (await app.inject('/v1/history/UZS?days=60')).json()
  const res = await app.inject('/v1/history/UZS?days=60&format=csv')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8')
  const rows = parseCsv(t, res.body)
  t.equal(rows.length, json.fixings.length)
  t.same(rows, rowsOf(json), 'numbers parse back to exactly the JSON ones')
  t.ok(json.fixings.some((f: Fixing) => f.basis === 'consensus'), 'both bases are among them')
  t.match(res.body, new RegExp(`\r\n${json.fixings[0].date},UZS,USD,${String(json.fixings[0].price)},`), 'as JavaScript prints the number')

  const several = await app.inject('/v1/history?symbols=KZT,UZS&from=2026-03-02&format=csv')
  const both = (await app.inject('/v1/history?symbols=KZT,UZS&from=2026-03-02')).json()
  t.same(parseCsv(t, several.body), [...rowsOf(both.series[0]), ...rowsOf(both.series[1])], 'grouped per base in the order asked')
  t.equal(parseCsv(t, (await app.inject('/v1/history/KZT?from=2026-01-10&to=2026-01-11&format=csv')).body).length, 0, 'an empty range is the header alone')
})

t.test('Accept chooses CSV or JSON; format overrides it; JSON is the default', async (t) => {
  const app = await historyApp(t)
  const cases: Array<[string | undefined, string, string]> = [
    [undefined, '', 'json'],
    ['*/*', '', 'json'],
    ['application/json', '', 'json'],
    ['text/csv', '', 'csv'],
    ['text/*', '', 'csv'],
    ['text/html', '', 'json'],
    ['text/csv;q=0.5, application/json', '', 'json'],
    ['application/json;q=0.5, text/csv', '', 'csv'],
    ['text/csv, */*;q=0.1', '', 'csv'],
    ['text/csv;q=0, */*', '', 'json'],
    ['text/csv;q=abc, application/json;q=0.1', '', 'json'],
    ['TEXT/CSV ; Q=0.9', '', 'csv'],
    ['text/csv', '&format=json', 'json'],
    ['application/json', '&format=csv', 'csv']
  ]
  for (const [accept, query, format] of cases) {
    for (const path of ['/v1/history/KZT?days=5', '/v1/history?symbols=KZT,UZS&days=5']) {
      const res = await app.inject({ url: path + query, headers: accept === undefined ? {} : { accept } })
      const name = `${path}${query} Accept: ${accept ?? '(none)'}`
      t.equal(res.statusCode, 200, name)
      t.equal(res.headers['content-type'], format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8', name)
      t.match(res.headers.vary, /(^|, )Accept(,|$)/, `${name}: Vary names Accept`)
    }
  }
})
