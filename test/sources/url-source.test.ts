import t from 'tap'
import type { Test } from 'tap'
import type { ParseOptions } from '../../src/sources/checks.js'
import { createCbtSource } from '../../src/sources/cbt.js'
import { createCbuSource } from '../../src/sources/cbu.js'
import { createNbkSource } from '../../src/sources/nbk.js'
import { createNbtSource } from '../../src/sources/nbt.js'
import { createCbrSource } from '../../src/sources/cbr.js'
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
  t.notOk(isDatedSource(createCbrSource()))
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

t.test('a 404 steps back one day at a time, as far as allowed; other failures never do', async (t) => {
  const { url, paths } = await upstream(t, ['/day/2025-03-01', '/day/2025-02-28', '/day/2025-02-27'])
  const { parse, calls } = recorder()
  const urlOf = (date: string): string => `${url}/day/${date}`
  const none = createDatedSource('cbt', urlOf, parse)
  await t.rejects(none.fetchDay(fetchContext(t), '2025-03-01'), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 404 })
  t.same(paths.splice(0), ['/day/2025-03-01'], 'no step back by default')

  const two = createDatedSource('cbt', urlOf, parse, { stepBackOn404: 2 })
  await t.rejects(two.fetchDay(fetchContext(t), '2025-03-01'), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 404 })
  t.same(paths.splice(0), ['/day/2025-03-01', '/day/2025-02-28', '/day/2025-02-27'], 'two steps back across the month, then the 404 is the error')

  const three = createDatedSource('cbt', urlOf, parse, { stepBackOn404: 3 })
  t.same(await three.fetchDay(fetchContext(t), '2025-03-01'), [quote])
  t.same(paths.splice(0), ['/day/2025-03-01', '/day/2025-02-28', '/day/2025-02-27', '/day/2025-02-26'])
  t.same(calls.map((c) => c.asked), ['2025-02-26'], 'the parser is told the day that answered')

  const down = createDatedSource('cbt', (date) => `${url}/down/${date}`, parse, { stepBackOn404: 3 })
  await t.rejects(down.fetchDay(fetchContext(t), '2025-03-01'), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 503 })
  t.same(paths.splice(0), ['/down/2025-03-01'], 'an outage is not a missing day')

  const refusing = createDatedSource('cbt', urlOf, () => { throw new Error('parser bug') }, { stepBackOn404: 3 })
  await t.rejects(refusing.fetchDay(fetchContext(t), '2025-02-26'), /parser bug/)
  t.same(paths.splice(0), ['/day/2025-02-26'], 'a parse failure of the day asked is not a missing day')
})

t.test('the banks with dated URLs are dated sources and build their URL from the date asked', async (t) => {
  const { url, paths } = await upstream(t)
  const sources = [
    createCbuSource({ origin: `${url}/cbu` }),
    createNbkSource({ origin: `${url}/nbk` }),
    createNbtSource({ origin: `${url}/nbt` }),
    createCbtSource({ origin: `${url}/cbt` })
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
    '/cbt/kurs/2024/31122024.xml'
  ])
})
