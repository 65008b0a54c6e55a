import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { NO_COVERAGE, ROOT } from '../support/process.js'
import { until } from '../support/until.js'

const POLL_MS = 300

interface Demo { url: Promise<string>, exited: Promise<number | string>, logs: string[], tmp: string, kill: (signal: NodeJS.Signals) => void }

/** `src/demo/demo.ts` in a child process whose temp folder is a fresh one of the test's. */
function startDemo (t: Test, env: Record<string, string> = {}): Demo {
  const tmp = mkdtempSync(join(tmpdir(), 'fx-demo-test-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'demo', 'demo.ts')], {
    cwd: ROOT,
    env: { ...NO_COVERAGE, PATH: process.env.PATH ?? '', TMPDIR: tmp, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', FX_POLL_INTERVAL_MS: String(POLL_MS), DEMO_SWITCH_MS: String(POLL_MS), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string)
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const logs: string[] = []
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n').filter((l) => l !== '')) {
        logs.push(line)
        const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/".*"msg":"demo page"/.exec(line)
        if (m?.[1] !== undefined) resolve(m[1])
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    exited.then((code) => reject(new Error(`demo exited with ${code}:\n${logs.join('\n')}`)), reject)
  })
  url.catch(() => {})
  return { url, exited, logs, tmp, kill: (signal) => child.kill(signal) }
}

const demoDirs = (tmp: string): string[] => readdirSync(tmp).filter((name) => name.startsWith('fx-ticker-demo-'))

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`the demo removes its state directory on ${signal}`, async (t) => {
    const demo = startDemo(t)
    await demo.url
    t.equal(demoDirs(demo.tmp).length, 1, 'one state directory while it runs')
    demo.kill(signal)
    t.equal(await demo.exited, 0, 'exits cleanly')
    t.same(demoDirs(demo.tmp), [], 'and leaves nothing behind')
  })
}

t.test('the demo removes its state directory when it fails to start', async (t) => {
  const demo = startDemo(t, { PORT: 'eighty' })
  await t.rejects(demo.url)
  t.equal(await demo.exited, 1)
  t.match(demo.logs.join('\n'), /PORT: expected a whole number/)
  t.same(demoDirs(demo.tmp), [])
})

t.test('the demo serves the replayed day as today, cbr-xml-daily included, and its page loads over plain HTTP', async (t) => {
  const demo = startDemo(t)
  const url = await demo.url
  const today = new Date().toISOString().slice(0, 10)
  const rates = await until(async () => {
    const res = await fetch(`${url}/v1/rates`)
    if (res.status !== 200) return false
    const body = await res.json() as { rates: Array<{ pair: string, date: string, sources: Array<{ id: string, date: string, used: boolean, reason?: string }> }> }
    const mirrored = body.rates.filter((r) => r.sources.some((s) => s.id === 'cbr-xml-daily'))
    return mirrored.length > 0 && body.rates.every((r) => r.date === today) && body.rates
  }, { timeoutMs: POLL_MS * 100, what: 'today\'s rates with cbr-xml-daily weighed' })
  for (const rate of rates) {
    for (const s of rate.sources.filter((s) => s.id === 'cbr-xml-daily')) {
      t.equal(s.date, today, `${rate.pair}: cbr-xml-daily dated today`)
      t.notMatch(s.reason ?? '', /value date/, `${rate.pair}: not rejected for its date`)
    }
  }
  const page = await fetch(`${url}/`)
  t.equal(page.status, 200)
  t.notMatch(page.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/)
  demo.kill('SIGTERM')
  t.equal(await demo.exited, 0)
})

t.test('the demo shows a change for every currency from its first snapshot, and 90 days of history soon after', async (t) => {
  const demo = startDemo(t)
  const url = await demo.url
  const first = await until(async () => {
    const res = await fetch(`${url}/v1/rates`)
    return res.status === 200 && await res.json() as { seq: number, rates: Array<{ base: string, date: string, change: { prevDate: string } | null }> }
  }, { timeoutMs: POLL_MS * 100, what: 'the first snapshot' })
  for (const rate of first.rates.filter((r) => r.base !== 'TMT')) {
    t.ok(rate.change !== null && rate.change.prevDate < rate.date, `${rate.base}: a change in the snapshot seen first (seq ${first.seq})`)
  }
  const series = await until(async () => {
    const res = await fetch(`${url}/v1/history?symbols=KGS,KZT,TJS,UZS,TMT&days=90`)
    if (res.status !== 200) return false
    const body = await res.json() as { series: Array<{ base: string, fixings: unknown[] }> }
    // NBT publishes daily, NBK on business days: 90 days hold about 64 of those
    return body.series.every((s) => s.fixings.length >= 60) && body.series
  }, { timeoutMs: POLL_MS * 200, what: '90 days of history for every currency' })
  t.equal(series.length, 5)
  demo.kill('SIGTERM')
  t.equal(await demo.exited, 0)
})
