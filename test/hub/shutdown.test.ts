import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { build } from '../support/build.js'
import { NO_COVERAGE } from '../support/process.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { connect, listen, refusal } from './clients.js'

const hintOf = (reason: string): number => Number(/^restart; retry in (\d+) ms$/.exec(reason)?.[1] ?? NaN)

t.test('app.close() closes every client with 1012 and a jittered retry hint', async (t) => {
  const app = await build(t, { env: { FX_SHUTDOWN_RETRY_MS: '30000' } })
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const clients = Array.from({ length: 20 }, (_, i) => connect(t, `ws://${host}/v1/ws${i % 2 === 0 ? '?symbols=KZT' : ''}`))
  for (const c of clients) await c.next('snapshot')
  const closing = app.close()
  const refused = await refusal(t, `ws://${host}/v1/ws`).catch(() => ({ status: 0, body: '' }))
  t.ok(refused.status === 503 || refused.status === 0, `no new stream while closing (${refused.status === 0 ? 'connection refused' : '503'})`)
  await closing
  const hints: number[] = []
  for (const c of clients) {
    const { code, reason } = await c.closed
    t.equal(code, 1012)
    hints.push(hintOf(reason))
  }
  t.ok(hints.every((h) => h >= 1000 && h <= 30_000), `hints within [1 s, FX_SHUTDOWN_RETRY_MS]: ${hints.join(', ')}`)
  t.ok(new Set(hints).size >= 15, 'different clients get different hints')
})

t.test('a client that ignores the close handshake does not hold shutdown beyond the grace', async (t) => {
  const app = await build(t)
  const host = await listen(app)
  const c = connect(t, `ws://${host}/v1/ws`)
  await c.next('heartbeat')
  // a client whose socket stopped reading never answers the close frame
  ;(c.ws as unknown as { _socket: { pause: () => void } })._socket.pause()
  const started = Date.now()
  await app.close()
  t.ok(Date.now() - started < 4000, `closed in ${Date.now() - started} ms`)
})

t.test('SIGTERM closes every client with 1012 and the process exits 0', async (t) => {
  const script = fileURLToPath(new URL('./fixtures/serve.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...NO_COVERAGE, FX_SHUTDOWN_RETRY_MS: '10000' },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  const [line] = await once(child.stdout, 'data') as [Buffer]
  const { port } = JSON.parse(String(line)) as { port: number }
  const clients = [1, 2, 3].map(() => connect(t, `ws://127.0.0.1:${port}/v1/ws`))
  for (const c of clients) await c.next('snapshot')
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  for (const c of clients) {
    const { code, reason } = await c.closed
    t.equal(code, 1012)
    t.ok(hintOf(reason) >= 1000 && hintOf(reason) <= 10_000, reason)
  }
  const [code, signal] = await exited as [number | null, string | null]
  t.equal(code, 0)
  t.equal(signal, null)
})
