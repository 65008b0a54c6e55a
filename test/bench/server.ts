// Fan-out server process, one per contender: the real app (`hub`, serving /v1/ws and /v1/stream), a bare
// `ws` server (`raw`) or Socket.IO (`socketio`, websocket transport) broadcasting the same bytes.
// Driven over IPC by test/bench/hub.ts; run with --expose-gc so memory is measured after a collection.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { WebSocket } from 'ws'
import { fiveRates, publishInput } from '../support/snapshot.js'

type Command = { type: 'mem' } | { type: 'publish', round: number } | { type: 'report' } | { type: 'stop' }
interface Running { port: number, publish: (round: number) => Promise<void>, stop: () => Promise<void> }

const target = process.argv[2] ?? 'hub'
const send = (msg: object): void => { process.send?.(msg) }
const now = (): number => performance.timeOrigin + performance.now()
const ratesOf = (round: number) => fiveRates({ KZT: 500 + round })
// the bytes the hub sends: an update carries only the changed rate (KZT here), the snapshot all five
const snapshotText = (): string => JSON.stringify({ type: 'snapshot', seq: 1, rates: ratesOf(0) })
const updateText = (round: number): string => JSON.stringify({ type: 'update', seq: round + 1, rates: ratesOf(round).filter((r) => r.base === 'KZT') })

// each contender loads only its own modules: a raw server's start-up and memory carry nothing of the app
async function startHub (): Promise<Running> {
  const [{ pino }, { buildApp }, { loadConfig }, { createMemoryStore }] = await Promise.all([
    import('pino'), import('../../src/app.js'), import('../../src/config.js'), import('../../src/store/memory.js')
  ])
  const config = loadConfig({ ...process.env, FX_STATE_DIR: '/nonexistent' })
  const store = createMemoryStore({ quote: config.quote })
  // the service's own logger at its configured level; the sink is discarded so the harness reads nothing
  const logger = pino({ level: config.logLevel }, pino.destination({ dest: '/dev/null', sync: false }))
  const app = await buildApp({ config, store, sources: [], logger })
  await store.publish(publishInput(ratesOf(0)))
  await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    port: (app.server.address() as AddressInfo).port,
    publish: async (round) => { await store.publish(publishInput(ratesOf(round))) },
    stop: async () => { await app.close() }
  }
}

async function startRaw (): Promise<Running> {
  const { WebSocketServer } = await import('ws')
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 4096 })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  const snapshot = Buffer.from(snapshotText())
  wss.on('connection', (ws: WebSocket) => { ws.send(snapshot, { binary: false }) })
  return {
    port: (wss.address() as AddressInfo).port,
    async publish (round) {
      const bytes = Buffer.from(updateText(round))
      for (const ws of wss.clients) ws.send(bytes, { binary: false })
    },
    stop: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    }
  }
}

async function startSocketIo (): Promise<Running> {
  const { Server: SocketIoServer } = await import('socket.io')
  const http = createServer()
  const io = new SocketIoServer(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false, maxHttpBufferSize: 4096 })
  const snapshot = snapshotText()
  io.on('connection', (socket) => { socket.emit('fx', snapshot) })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    port: (http.address() as AddressInfo).port,
    async publish (round) { io.emit('fx', updateText(round)) },
    stop: async () => {
      io.disconnectSockets(true)
      await new Promise<void>((resolve) => { io.close(() => resolve()) })
    }
  }
}

const server = target === 'raw' ? await startRaw() : target === 'socketio' ? await startSocketIo() : await startHub()
// what the last publish reports, asked for once every client has the update: an IPC message sent while
// clients are still reading would wake the harness in the middle of the measured broadcast
let last: Promise<object> | undefined
process.on('message', (cmd: Command) => {
  if (cmd.type === 'mem') {
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    gc?.()
    const { rss, heapUsed } = process.memoryUsage()
    send({ type: 'mem', rss, heapUsed })
  } else if (cmd.type === 'publish') {
    const t0 = now()
    // loopMs: how long the publish call held the event loop: the whole send for a server that does not yield
    last = server.publish(cmd.round).then(() => ({ type: 'published', t0, loopMs: now() - t0 }), (err: unknown) => ({ type: 'failed', error: String(err) }))
  } else if (cmd.type === 'report') {
    last?.then(send, () => {})
  } else {
    server.stop().finally(() => process.exit(0))
  }
})
send({ type: 'listening', port: server.port })
