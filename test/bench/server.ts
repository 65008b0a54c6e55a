// Bench server process: either the real app (`hub`) or a bare `ws` server broadcasting the same bytes (`raw`).
// Driven over IPC by test/bench/hub.ts; run with --expose-gc so memory is measured after a collection.
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createMemoryStore } from '../../src/store/memory.js'
import { fiveRates, publishInput } from '../support/snapshot.js'

type Command = { type: 'mem' } | { type: 'publish', round: number } | { type: 'stop' }

const target = process.argv[2] === 'raw' ? 'raw' : 'hub'
const send = (msg: object): void => { process.send?.(msg) }
const now = (): number => performance.timeOrigin + performance.now()
const ratesOf = (round: number) => fiveRates({ KZT: 500 + round })

async function startHub (): Promise<{ port: number, publish: (round: number) => Promise<void>, stop: () => Promise<void> }> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', FX_STATE_DIR: '/nonexistent' })
  const store = createMemoryStore({ quote: config.quote })
  const app = await buildApp({ config, store, sources: [], logger: false })
  await store.publish(publishInput(ratesOf(0)))
  await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    port: (app.server.address() as AddressInfo).port,
    publish: async (round) => { await store.publish(publishInput(ratesOf(round))) },
    stop: async () => { await app.close() }
  }
}

async function startRaw (): Promise<{ port: number, publish: (round: number) => Promise<void>, stop: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 4096 })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  let seq = 1
  const snapshot = Buffer.from(JSON.stringify({ type: 'snapshot', seq, rates: ratesOf(0) }))
  wss.on('connection', (ws: WebSocket) => { ws.send(snapshot, { binary: false }) })
  return {
    port: (wss.address() as AddressInfo).port,
    async publish (round) {
      seq++
      const kzt = ratesOf(round).filter((r) => r.base === 'KZT')
      const bytes = Buffer.from(JSON.stringify({ type: 'update', seq, rates: kzt }))
      for (const ws of wss.clients) ws.send(bytes, { binary: false })
    },
    stop: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    }
  }
}

const server = target === 'raw' ? await startRaw() : await startHub()
process.on('message', (cmd: Command) => {
  if (cmd.type === 'mem') {
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    gc?.()
    const { rss, heapUsed } = process.memoryUsage()
    send({ type: 'mem', rss, heapUsed })
  } else if (cmd.type === 'publish') {
    const t0 = now()
    server.publish(cmd.round).then(() => send({ type: 'published', t0, loopMs: now() - t0 }), (err: unknown) => send({ type: 'failed', error: String(err) }))
  } else {
    server.stop().finally(() => process.exit(0))
  }
})
send({ type: 'listening', port: server.port })
