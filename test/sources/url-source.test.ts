import t from 'tap'
import type { Test } from 'tap'
import type { ParseOptions } from '../../src/sources/checks.js'
import { createCbtSource } from '../../src/sources/cbt.js'
import { createCbuSource } from '../../src/sources/cbu.js'
import { createNbkSource } from '../../src/sources/nbk.js'
import { createNbtSource } from '../../src/sources/nbt.js'
import { createCbrSource } from '../../src/sources/cbr.js'
import { createCbrXmlDailySource } from '../../src/sources/cbr-xml-daily.js'
import { createFawazahmed0Source } from '../../src/sources/fawazahmed0.js'
import { createFrankfurterSource } from '../../src/sources/frankfurter.js'
import { createNbkrSource } from '../../src/sources/nbkr.js'
import { createOpenErApiSource } from '../../src/sources/open-er-api.js'
import { createDatedSource, createUrlSource, isDatedSource } from '../../src/sources/url-source.js'
import type { Quote } from '../../src/domain/rate.js'
import { NOW, fetchContext } from '../support/fetch-context.js'
import { fixtureServer } from '../support/fixture-server.js'

const quote: Quote = { base: 'KZT', inverse: 510, date: '2025-11-26', relErr: 1e-6, cadence: 'daily' }

/** A server that answers 404 for the paths in `missing`, 503 for /down/..., and the path as the body otherwise. */
async function upstream (t: Test, missing: readonly string[] = []): Promise<{ url: string, paths: string[] }> {
  const paths: string[] = []
  const server = await fixtureServer(t, (req, res) => {
    const path = req.url ?? ''
    paths.push(path)
    const status = missing.includes(path) ? 404 : path.startsWith('/down/') ? 503 : 200
    res.writeHead(status, { 'content-type': 'text/plain' }).end(path)
  })
  return { url: server.url, paths }
}

/** A parser that records what it was told and answers one quote. */
function recorder (): { parse: (text: string, opts: ParseOptions) => Quote[], calls: Array<{ text: string } & ParseOptions> } {
  const calls: Array<{ text: string } & ParseOptions> = []
  return { calls, parse: (text, opts) => { calls.push({ text, ...opts }); return [quote] } }
}

t.test('a fixed-URL source GETs its URL and parses the body against the poll clock, with no date asked', async (t) => {
  const { url, paths } = await upstream(t)
  const { parse, calls } = recorder()
  const source = createUrlSource('cbr', `${url}/latest`, parse)
  t.same(await source.fetchQuotes(fetchContext(t)), [quote])
  t.same(paths, ['/latest'])
  t.same(calls, [{ text: '/latest', now: NOW }])
  t.notOk(isDatedSource(source), 'a fixed URL cannot be asked for a date')
})

t.test('a dated source asks for today in the publisher\'s zone, from the poll clock', async (t) => {
  const { url, paths } = await upstream(t)
  const { parse, calls } = recorder()
  const source = createDatedSource('nbkr', (date) => `${url}/day/${date}`, parse)
  t.equal(source.id, 'nbkr')
  // 18:30 UTC is already the next day in Bishkek (UTC+6), still the same day in Moscow (UTC+3)
  const evening = new Date('2025-11-26T18:30:00Z')
  await source.fetchQuotes(fetchContext(t, { now: evening }))
  await createDatedSource('cbr', (date) => `${url}/day/${date}`, parse).fetchQuotes(fetchContext(t, { now: evening }))
  t.same(paths, ['/day/2025-11-27', '/day/2025-11-26'])
  t.same(calls.map((c) => [c.asked, c.now]), [['2025-11-27', evening], ['2025-11-26', evening]])
})

t.test('any date can be asked for through fetchDay, the clock staying the poll\'s', async (t) => {
  const { url, paths } = await upstream(t)
  const { parse, calls } = recorder()
  const source = createDatedSource('cbu', (date) => `${url}/day/${date}`, parse)
  t.ok(isDatedSource(source))
  t.same(await source.fetchDay(fetchContext(t), '2025-01-31'), [quote])
  t.same(paths, ['/day/2025-01-31'])
  t.same(calls, [{ text: '/day/2025-01-31', now: NOW, asked: '2025-01-31' }])
  for (const bad of ['2025-02-30', '31.01.2025', '', '2025-1-31']) {
    await t.rejects(source.fetchDay(fetchContext(t), bad), RangeError, `${JSON.stringify(bad)} is refused`)
  }
  t.equal(paths.length, 1, 'a refused date costs no request')
})

t.test('fetchDay makes one request: a 404 is no publication that day, every other failure rejects', async (t) => {
  const { url, paths } = await upstream(t, ['/day/2025-03-01'])
  const { parse, calls } = recorder()
  const source = createDatedSource('cbt', (date) => `${url}/day/${date}`, parse, { stepBackOn404: 3 })
  t.same(await source.fetchDay(fetchContext(t), '2025-03-01'), [], 'a 404 answers no quotes')
  t.same(paths.splice(0), ['/day/2025-03-01'], 'no step back, whatever the live poll does')
  t.same(calls, [])
  const down = createDatedSource('cbt', (date) => `${url}/down/${date}`, parse)
  await t.rejects(down.fetchDay(fetchContext(t), '2025-03-01'), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 503 })
  t.same(paths.splice(0), ['/down/2025-03-01'], 'an outage is not a missing day')
  const refusing = createDatedSource('cbt', (date) => `${url}/day/${date}`, () => { throw new Error('parser bug') })
  await t.rejects(refusing.fetchDay(fetchContext(t), '2025-02-26'), /parser bug/)
  t.same(paths.splice(0), ['/day/2025-02-26'])
})

t.test('the live poll of a dated URL steps back one day at a time on a 404, as far as allowed', async (t) => {
  const { url, paths } = await upstream(t, ['/day/2025-03-01', '/day/2025-02-28', '/day/2025-02-27'])
  const { parse, calls } = recorder()
  const urlOf = (date: string): string => `${url}/day/${date}`
  const ctx = (): ReturnType<typeof fetchContext> => fetchContext(t, { now: new Date('2025-03-01T09:00:00Z') })
  await t.rejects(createDatedSource('cbt', urlOf, parse).fetchQuotes(ctx()), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 404 })
  t.same(paths.splice(0), ['/day/2025-03-01'], 'no step back by default')

  await t.rejects(createDatedSource('cbt', urlOf, parse, { stepBackOn404: 2 }).fetchQuotes(ctx()), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 404 })
  t.same(paths.splice(0), ['/day/2025-03-01', '/day/2025-02-28', '/day/2025-02-27'], 'two steps back across the month, then the 404 is the error')

  t.same(await createDatedSource('cbt', urlOf, parse, { stepBackOn404: 3 }).fetchQuotes(ctx()), [quote])
  t.same(paths.splice(0), ['/day/2025-03-01', '/day/2025-02-28', '/day/2025-02-27', '/day/2025-02-26'])
  t.same(calls.map((c) => c.asked), ['2025-02-26'], 'the parser is told the day that answered')

  const down = createDatedSource('cbt', (date) => `${url}/down/${date}`, parse, { stepBackOn404: 3 })
  await t.rejects(down.fetchQuotes(ctx()), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 503 })
  t.same(paths.splice(0), ['/down/2025-03-01'], 'an outage is not a missing day')
})

t.test('a source with a latest URL polls it live, undated, and its archive only through fetchDay', async (t) => {
  const { url, paths } = await upstream(t)
  const { parse, calls } = recorder()
  const source = createDatedSource('cbr', (date) => `${url}/day/${date}`, parse, { latestUrl: `${url}/latest` })
  t.same(await source.fetchQuotes(fetchContext(t)), [quote])
  t.same(await source.fetchDay(fetchContext(t), '2024-02-29'), [quote])
  t.same(paths, ['/latest', '/day/2024-02-29'])
  t.same(calls, [{ text: '/latest', now: NOW }, { text: '/day/2024-02-29', now: NOW, asked: '2024-02-29' }])
})

t.test('every source with an archive is a dated source and builds its URL from the date asked', async (t) => {
  const { url, paths } = await upstream(t)
  const origin = (id: string): { origin: string } => ({ origin: `${url}/${id}` })
  const sources = [
    createCbuSource(origin('cbu')),
    createNbkSource(origin('nbk')),
    createNbtSource(origin('nbt')),
    createCbtSource(origin('cbt')),
    createCbrSource(origin('cbr')),
    createCbrXmlDailySource(origin('cbr-xml-daily')),
    createFrankfurterSource(origin('frankfurter')),
    createFawazahmed0Source(origin('fawazahmed0'))
  ]
  for (const source of sources) {
    t.ok(isDatedSource(source), source.id)
    // the bodies are not payloads: only the URL each one asked for is of interest here
    await t.rejects(source.fetchDay(fetchContext(t), '2024-12-31'), { code: 'RATES_SOURCE_PARSE' })
  }
  t.same(paths, [
    '/cbu/en/arkhiv-kursov-valyut/json/all/2024-12-31/',
    '/nbk/rss/get_rates.cfm?fdate=31.12.2024',
    '/nbt/en/kurs/export_xml.php?date=2024-12-31&export=xmlout',
    '/cbt/kurs/2024/31122024.xml',
    '/cbr/scripts/XML_daily.asp?date_req=31/12/2024',
    '/cbr-xml-daily/archive/2024/12/31/daily_json.js',
    '/frankfurter/v2/rates?base=USD&quotes=KGS,KZT,RUB,TJS,TMT,UZS&date=2024-12-31',
    '/fawazahmed0/npm/@fawazahmed0/currency-api@2024-12-31/v1/currencies/usd.json'
  ])
  t.notOk(isDatedSource(createNbkrSource()), 'NBKR has no archive to ask')
  t.notOk(isDatedSource(createOpenErApiSource()), 'open.er-api has no archive to ask')
})
