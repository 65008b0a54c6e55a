import net from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { build, testConfig } from '../support/build.js'
import { until } from '../support/until.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { SOURCE_IDS } from '../../src/domain/sources.js'
import { sourceUrlVariable } from '../../src/config.js'
import { createSources } from '../../src/sources/index.js'
import type { Source } from '../../src/sources/source.js'
import { createMemoryStore } from '../../src/store/memory.js'

/** A loopback port that refuses connections: bound once, then closed. */
async function closedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

// what must never reach an anonymous client: file paths, addresses, ports, stack frames, raw errno text
const LEAKS = [/\/var\/|\/tmp\/|\/home\/|\/work\//, /\b\d{1,3}(\.\d{1,3}){3}\b/, /localhost/i, /\bE[A-Z]{3,}\b/, /\bat .*\(|\.ts:\d+/, /Error\b/]

t.test('/readyz names failures with codes and words only, whatever the sources and the engine report', async (t) => {
  const port = await closedPort()
  const env = {
    ...Object.fromEntries(SOURCE_IDS.map((id) => [sourceUrlVariable(id), `http://127.0.0.1:${port}/${id}`])),
    FX_HISTORY_DAYS: '0',
    FX_POLL_INTERVAL_MS: '100',
    FX_HTTP_TIMEOUT_MS: '500'
  }
  const failing = (id: Source['id'], err: Error): Source => ({ id, fetchQuotes: async () => { throw err } })
  const sources = createSources(testConfig(env)).map((s) => {
    if (s.id === 'nbk') return failing(s.id, new Error(`EACCES: permission denied, open '/var/lib/fx/cache/${s.id}.xml'`))
    if (s.id === 'cbu') return failing(s.id, new TypeError("Cannot read properties of undefined (reading 'rates') at parseCbu (/work/src/sources/cbu.ts:42:7)"))
    return s
  })
  const memory = createMemoryStore({ quote: 'USD' })
  const store = {
    ...memory,
    health: () => ({
      ok: false,
      reasons: [
        'state not persisted: EISDIR: illegal operation on a directory, open \'/var/lib/fx/state.json.tmp\'',
        `redis unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
        'redis reachable; resynchronising'
      ]
    })
  }
  const app = await build(t, { env, sources, store })
  const body = await until(async () => {
    const res = await app.inject('/readyz')
    const json = res.json() as { sources: Array<{ consecutiveFailures: number }> }
    return json.sources.length === SOURCE_IDS.length && json.sources.every((s) => s.consecutiveFailures > 0) && res
  }, { timeoutMs: 10_000, what: 'every source failed at least once' })
  t.equal(body.statusCode, 503)
  for (const leak of LEAKS) t.notMatch(body.body, leak, `no ${leak} in /readyz`)
  t.notMatch(body.body, String(port), 'not even the port')
  const json = body.json()
  t.same(json.reasons, ['no snapshot yet', 'state not persisted', 'redis unreachable', 'redis reachable; resynchronising', 'every upstream source is failing'])
  for (const s of json.sources) {
    t.same(Object.keys(s).sort(), ['consecutiveFailures', 'error', 'id', 'lastErrorAt', 'lastSuccessAt', 'ok'], `${s.id}: public fields only`)
    t.equal(s.ok, false)
    t.match(s.error, /^RATES_[A-Z_]+$/, `${s.id} reports a code`)
  }
  const byId = Object.fromEntries(json.sources.map((s: { id: string, error: string }) => [s.id, s.error]))
  t.equal(byId.cbr, 'RATES_SOURCE_NETWORK', 'a refused connection is a network failure')
  t.equal(byId.nbk, 'RATES_INTERNAL', 'an untyped error says nothing of itself')
  t.equal(byId.cbu, 'RATES_INTERNAL')
})

t.test('/readyz before any poll and once ready', async (t) => {
  const app = await build(t)
  const before = await app.inject('/readyz')
  t.equal(before.statusCode, 503)
  t.same(before.json(), { status: 'not ready', reasons: ['no snapshot yet'], seq: null, sources: [] })
  t.equal(before.headers['cache-control'], 'no-store')
  await app.store.publish(publishInput(fiveRates()))
  const after = await app.inject('/readyz')
  t.equal(after.statusCode, 200)
  t.same(after.json(), { status: 'ready', reasons: [], seq: 1, sources: [] })
})
