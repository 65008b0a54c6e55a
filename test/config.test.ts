import t from 'tap'
import { loadConfig, sourceUrlVariable } from '../src/config.js'
import { SOURCE_IDS } from '../src/domain/sources.js'

t.test('defaults match the documented contract', async (t) => {
  const c = loadConfig({})
  t.equal(c.host, '0.0.0.0')
  t.equal(c.port, 8080)
  t.equal(c.logLevel, 'info')
  t.same(c.currencies, ['KGS', 'KZT', 'TJS', 'UZS', 'TMT'])
  t.equal(c.quote, 'USD')
  t.same(c.sources, [...SOURCE_IDS])
  t.equal(c.pollIntervalMs, 300_000)
  t.equal(c.staleAfterMs, 345_600_000)
  t.equal(c.outlierPct, 1.5)
  t.equal(c.stateDir, './data')
  t.equal(c.redisUrl, undefined)
  t.same(c.corsOrigins, ['*'])
})

t.test('source origin overrides use the upper-cased id with - turned into _', async (t) => {
  t.equal(sourceUrlVariable('open-er-api'), 'FX_SOURCE_OPEN_ER_API_URL')
  const c = loadConfig({ FX_SOURCE_NBK_URL: 'http://127.0.0.1:9000/nbk', FX_SOURCE_CBR_XML_DAILY_URL: 'http://[::1]:9/x' })
  t.same(c.sourceUrls, { nbk: 'http://127.0.0.1:9000/nbk', 'cbr-xml-daily': 'http://[::1]:9/x' })
})

t.test('lists and numbers are parsed', async (t) => {
  const c = loadConfig({ FX_CURRENCIES: 'kzt, uzs', FX_SOURCES: 'nbk,cbu', FX_OUTLIER_PCT: '0.5', PORT: '0', CORS_ORIGINS: 'https://a.example,http://127.0.0.1:3000' })
  t.same(c.currencies, ['KZT', 'UZS'])
  t.same(c.sources, ['nbk', 'cbu'])
  t.equal(c.outlierPct, 0.5)
  t.equal(c.port, 0)
  t.same(c.corsOrigins, ['https://a.example', 'http://127.0.0.1:3000'])
})

t.test('bad configuration names every bad variable, one line each', async (t) => {
  const err = (() => {
    try {
      loadConfig({ PORT: 'eighty', FX_OUTLIER_PCT: '-1', FX_SOURCES: 'nbk,ecb', FX_SOURCE_NBK_URL: 'ftp://x', FX_SOURCE_ECB_URL: 'http://x', LOG_LEVEL: 'loud', REDIS_URL: 'http://x' })
    } catch (e) { return e as Error & { code: string } }
    return undefined
  })()
  t.ok(err)
  t.equal(err?.code, 'RATES_CONFIG')
  const lines = (err?.message ?? '').split('\n')
  for (const name of ['PORT', 'FX_OUTLIER_PCT', 'FX_SOURCES', 'FX_SOURCE_NBK_URL', 'FX_SOURCE_ECB_URL', 'LOG_LEVEL', 'REDIS_URL']) {
    t.equal(lines.filter((l) => l.startsWith(`${name}:`)).length, 1, `one line for ${name}`)
  }
  t.equal(lines.length, 7)
})

t.test('the leader lock must outlive two renewals', async (t) => {
  t.throws(() => loadConfig({ FX_LEADER_LOCK_MS: '1000', FX_LEADER_RENEW_MS: '800' }), /FX_LEADER_RENEW_MS/)
})

t.test('FX_TRUST_PROXY: off by default, true, hops or addresses', async (t) => {
  t.equal(loadConfig({}).trustProxy, false)
  t.equal(loadConfig({ FX_TRUST_PROXY: 'true' }).trustProxy, true)
  t.equal(loadConfig({ FX_TRUST_PROXY: '1' }).trustProxy, 1)
  t.same(loadConfig({ FX_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy, ['10.0.0.0/8', '127.0.0.1'])
  t.throws(() => loadConfig({ FX_TRUST_PROXY: 'nginx' }), /FX_TRUST_PROXY/)
})
