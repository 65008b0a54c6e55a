import t from 'tap'
import { readFileSync } from 'node:fs'
import { loadConfig, sourceUrlVariable } from '../src/config.js'
import { SOURCE_IDS } from '../src/domain/sources.js'
import { build } from './support/build.js'

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

/** The RATES_CONFIG message of a rejected environment, or '' when it was accepted. */
function refusal (env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (err) {
    return (err as Error & { code?: string }).code === 'RATES_CONFIG' ? (err as Error).message : `unexpected ${String(err)}`
  }
  return ''
}

// Node runs a setTimeout/setInterval delay above 2^31-1 ms after 1 ms instead
const MAX_TIMER_MS = 2 ** 31 - 1
const MS_VARIABLES = ['FX_POLL_INTERVAL_MS', 'FX_HTTP_TIMEOUT_MS', 'FX_LEADER_LOCK_MS', 'FX_LEADER_RENEW_MS',
  'WS_HEARTBEAT_MS', 'WS_PING_MS', 'FX_SHUTDOWN_RETRY_MS']

t.test('no millisecond setting may exceed what a Node timer can hold', async (t) => {
  for (const name of MS_VARIABLES) {
    for (const value of [String(MAX_TIMER_MS + 1), '10000000000', '99999999999999999999999']) {
      const message = refusal({ [name]: value })
      const lines = message.split('\n').filter((l) => l.startsWith(`${name}:`))
      t.equal(lines.length, 1, `${name}=${value}: one line`)
      t.match(lines[0], /expected at most \d+ ms/, `${name}=${value}: ${lines[0]}`)
    }
  }
})

t.test('the stale age is compared with the clock, not set as a timer: a century is accepted, more is refused', async (t) => {
  t.equal(loadConfig({ FX_STALE_AFTER_MS: '3153600000000' }).staleAfterMs, 3_153_600_000_000)
  t.match(refusal({ FX_STALE_AFTER_MS: '3153600000001' }), /^FX_STALE_AFTER_MS: expected at most 3153600000000 ms/m)
})

t.test('the largest accepted timer settings, direct or derived, fit in a Node timer', async (t) => {
  t.equal(loadConfig({ WS_PING_MS: String(MAX_TIMER_MS), WS_HEARTBEAT_MS: String(MAX_TIMER_MS), FX_STALE_AFTER_MS: String(MAX_TIMER_MS) }).ws.pingMs, MAX_TIMER_MS)
  t.equal(loadConfig({ FX_SHUTDOWN_RETRY_MS: String(MAX_TIMER_MS) }).shutdownRetryMs, MAX_TIMER_MS)
  // a poll is rescheduled after up to +10 % jitter
  t.match(refusal({ FX_POLL_INTERVAL_MS: String(MAX_TIMER_MS) }), /^FX_POLL_INTERVAL_MS: expected at most 1952257860 ms .*jitter/m)
  t.ok(Math.round(loadConfig({ FX_POLL_INTERVAL_MS: '1952257860' }).pollIntervalMs * 1.1) <= MAX_TIMER_MS)
  // a poll (at most two requests) ends within twice the request timeout
  t.match(refusal({ FX_HTTP_TIMEOUT_MS: String(2 ** 30) }), /^FX_HTTP_TIMEOUT_MS: expected at most 1073741823 ms .*poll/m)
  t.equal(loadConfig({ FX_HTTP_TIMEOUT_MS: '1073741823' }).httpTimeoutMs * 2, MAX_TIMER_MS - 1)
  const lock = loadConfig({ FX_LEADER_LOCK_MS: String(MAX_TIMER_MS), FX_LEADER_RENEW_MS: String(Math.floor(MAX_TIMER_MS / 2)) })
  t.equal(lock.leaderLockMs, MAX_TIMER_MS)
})

t.test('relations between settings: the leader lock outlives two renewals, also at the largest values', async (t) => {
  t.match(refusal({ FX_LEADER_LOCK_MS: '1000', FX_LEADER_RENEW_MS: '501' }), /^FX_LEADER_RENEW_MS: expected at most half of FX_LEADER_LOCK_MS/m)
  t.equal(refusal({ FX_LEADER_LOCK_MS: '1000', FX_LEADER_RENEW_MS: '500' }), '')
  t.match(refusal({ FX_LEADER_LOCK_MS: String(MAX_TIMER_MS), FX_LEADER_RENEW_MS: String(MAX_TIMER_MS) }), /FX_LEADER_RENEW_MS: expected at most half/)
})

t.test('FX_CURRENCIES accepts only the bases the service can serve, and says which', async (t) => {
  for (const value of ['XXX', 'kzt,XXX', 'EUR', 'USD', 'KZT,UZS,RUB,CNY']) {
    const message = refusal({ FX_CURRENCIES: value })
    const lines = message.split('\n')
    t.equal(lines.length, 1, `${value}: one line`)
    t.match(lines[0], /^FX_CURRENCIES: expected currencies among KGS, KZT, UZS, TJS, TMT/, `${value}: ${lines[0]}`)
  }
  t.match(refusal({ FX_CURRENCIES: 'KZT,kzt' }), /^FX_CURRENCIES: expected no duplicate currency/)
  t.same(loadConfig({ FX_CURRENCIES: 'tmt,KGS' }).currencies, ['TMT', 'KGS'])
})

t.test('behind the shipped nginx, a client cannot pick its own address with a forged X-Forwarded-For', async (t) => {
  const compose = readFileSync(new URL('../docker/compose.yaml', import.meta.url), 'utf8')
  const trustProxy = /^\s*FX_TRUST_PROXY:\s*"([^"]*)"\s*$/m.exec(compose)?.[1]
  t.ok(trustProxy !== undefined, 'compose.yaml sets FX_TRUST_PROXY')
  const nginx = readFileSync(new URL('../docker/nginx.conf', import.meta.url), 'utf8')
  t.match(nginx, /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/, 'nginx appends the address it saw')
  const app = await build(t, { env: { FX_TRUST_PROXY: trustProxy ?? '', FX_RATE_LIMIT_PER_MIN: '3' } })
  // what nginx (at 172.18.0.5) forwards: whatever the client sent, then the client's real address
  const via = (sent: string | undefined, client: string) => ({
    remoteAddress: '172.18.0.5',
    headers: { 'x-forwarded-for': sent === undefined ? client : `${sent}, ${client}` }
  })
  const statuses: number[] = []
  for (const forged of [undefined, '203.0.113.1', '198.51.100.2, 203.0.113.3', '10.0.0.4']) {
    statuses.push((await app.inject({ url: '/v1/rates', ...via(forged, '192.0.2.10') })).statusCode)
  }
  t.same(statuses.map((s) => s === 429), [false, false, false, true], 'the fourth request of one client is limited, whatever it forged')
  t.not((await app.inject({ url: '/v1/rates', ...via(undefined, '192.0.2.11') })).statusCode, 429, 'another client has its own allowance')
  t.equal((await app.inject({ url: '/v1/rates', ...via('192.0.2.11', '192.0.2.10') })).statusCode, 429,
    'naming another client does not borrow its allowance')
})
