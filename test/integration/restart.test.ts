import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { replay, sourceEnv } from '../support/replay.js'
import { until } from '../support/until.js'
import { startService } from '../support/process.js'
import type { Snapshot } from '../../src/domain/rate.js'

const get = async (url: string): Promise<{ status: number, body: unknown }> => {
  const res = await fetch(url)
  return { status: res.status, body: await res.json() }
}

t.test('after kill -9 and a restart the last snapshot, its seq and the history are served at once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fx-restart-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const upstream = await replay(t, '2025-11-25')
  const env = { ...sourceEnv(upstream), FX_STATE_DIR: dir, FX_POLL_INTERVAL_MS: '200' }

  const first = await startService(t, env)
  await until(async () => {
    const { body } = await get(`${first.url}/v1/rates`)
    return (body as Snapshot).rates?.length === 5 && (body as Snapshot).rates.every((r) => r.date === '2025-11-25')
  }, { timeoutMs: 15_000, what: 'day one' })
  upstream.setDay('2025-11-26')
  // every source asked twice since the switch: its first answer of day two has been folded in
  const switched = upstream.hits()
  await until(() => Object.entries(switched).every(([id, n]) => (upstream.hits()[id] ?? 0) >= n + 2), { timeoutMs: 15_000, what: 'every source on day two' })
  const before = await until(async () => {
    const { body } = await get(`${first.url}/v1/rates`)
    const s = body as Snapshot
    return s.rates?.length === 5 && s.rates.every((r) => r.date === '2025-11-26' && r.change !== null && r.sources.length === 10) && s
  }, { timeoutMs: 15_000, what: 'day two with a change' })
  // let every source answer a few more rounds so the snapshot has settled
  const hits = upstream.hits()
  await until(() => Object.entries(hits).every(([id, n]) => (upstream.hits()[id] ?? 0) >= n + 3), { timeoutMs: 15_000, what: 'three more rounds' })
  const settled = (await get(`${first.url}/v1/rates`)).body as Snapshot
  t.equal(settled.seq, before.seq, 'nothing moved while the payloads stayed the same')
  const history = await get(`${first.url}/v1/history/KZT?from=2025-11-01&to=2025-11-30`)

  first.child.kill('SIGKILL')
  t.equal(await first.exited, 'SIGKILL')
  // the restarted service cannot reach any upstream: whatever it serves comes from disk
  upstream.setDay('fail')

  const second = await startService(t, env)
  const after = await get(`${second.url}/v1/rates`)
  t.equal(after.status, 200, 'served at once, before any poll succeeded')
  t.same(after.body, settled, 'the same snapshot and seq')
  t.same((await get(`${second.url}/v1/history/KZT?from=2025-11-01&to=2025-11-30`)).body, history.body, 'the same history')
  t.equal((history.body as { fixings: unknown[] }).fixings.length, 2)

  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0, 'SIGTERM drains and exits 0')
})

t.test('with no reachable upstream the service starts, is alive, not ready, and keeps retrying', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fx-offline-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const upstream = await replay(t, 'fail')
  const svc = await startService(t, { ...sourceEnv(upstream), FX_STATE_DIR: dir, FX_POLL_INTERVAL_MS: '300' })
  t.equal((await fetch(`${svc.url}/healthz`)).status, 200)
  const ready = await until(async () => {
    const r = await get(`${svc.url}/readyz`)
    const body = r.body as { reasons: string[], sources: Array<{ consecutiveFailures: number }> }
    return r.status === 503 && body.sources.every((s) => s.consecutiveFailures >= 2) && body
  }, { timeoutMs: 15_000, what: 'two failed rounds' })
  t.match(ready.reasons, ['no snapshot yet'])
  t.ok(ready.reasons.some((r) => /every upstream source is failing/.test(r)), 'the reason names the failing sources')
  const rates = await fetch(`${svc.url}/v1/rates`)
  t.equal(rates.status, 503)
  t.ok(Number(rates.headers.get('retry-after')) > 0)
  // one short line per failed poll, never a stack trace
  const failures = svc.logs.filter((l) => l.includes('source poll failed'))
  t.ok(failures.length >= 20)
  t.notOk(svc.logs.some((l) => /\n\s+at |"stack"/.test(l)), 'no stack traces in the logs')
  svc.child.kill('SIGTERM')
  t.equal(await svc.exited, 0)
})
