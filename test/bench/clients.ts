// Bench client process: opens `count` connections of one kind (WebSocket, SSE or Socket.IO) and reports when
// each receives the awaited seq. Connections are spread over several 127.0.0.x source addresses: one address
// pair has only about 28,000 ephemeral ports.
import { request } from 'node:http'
import type { ClientRequest } from 'node:http'
import { performance } from 'node:perf_hooks'
import { io } from 'socket.io-client'
import type { Socket } from 'socket.io-client'
import { WebSocket } from 'ws'

export type Kind = 'ws' | 'sse' | 'socketio'
type Command = { type: 'connect', set: string, kind: Kind, url: string, count: number, offset: number } | { type: 'expect', set: string, seq: number } | { type: 'collect' } | { type: 'close', set: string } | { type: 'stop' }

const IN_FLIGHT = 100
const ADDRESSES = 8
const send = (msg: object): void => { process.send?.(msg) }
const now = (): number => performance.timeOrigin + performance.now()

/** The connections to one server, and the round they wait for. */
interface ClientSet { closers: Array<() => void>, expected: string | undefined, times: number[], pending: number }
const sets = new Map<string, ClientSet>()

function onData (set: string, s: ClientSet, text: string): void {
  // a substring check, not JSON.parse: the client processes must not be the bottleneck being measured
  if (s.expected === undefined || !text.includes(s.expected)) return
  s.times.push(now())
  if (--s.pending === 0) {
    send({ type: 'received', set, times: s.times })
    s.expected = undefined
  }
}

/** Opens one connection; resolves once its first message (the snapshot) arrived, so it is fully set up. */
async function open (set: string, s: ClientSet, kind: Kind, url: string, localAddress: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let first = true
    const data = (text: string): void => {
      if (first) { first = false; resolve(); return }
      onData(set, s, text)
    }
    if (kind === 'ws') {
      const ws = new WebSocket(url, { perMessageDeflate: false, localAddress })
      s.closers.push(() => ws.terminate())
      ws.on('message', (d: Buffer) => data(d.toString('latin1')))
      ws.once('error', reject)
      ws.once('close', (code) => { if (first) reject(new Error(`closed with ${code} before the snapshot`)) })
    } else if (kind === 'socketio') {
      const socket: Socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, localAddress } as Parameters<typeof io>[1])
      s.closers.push(() => socket.disconnect())
      socket.on('fx', (text: string) => data(text))
      socket.once('connect_error', reject)
    } else {
      let tail = ''
      const req: ClientRequest = request(url, { agent: false, localAddress, headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) { reject(new Error(`SSE answered ${res.statusCode}`)); res.resume(); return }
        res.setEncoding('latin1')
        res.on('data', (chunk: string) => {
          // an event may straddle two reads; the awaited marker is short, so a short tail suffices
          const text = tail + chunk
          tail = chunk.slice(-64)
          if (first && !text.includes('event: snapshot')) return
          data(text)
        })
      })
      s.closers.push(() => req.destroy())
      req.once('error', reject)
      req.end()
    }
  })
}

async function connectAll (set: string, kind: Kind, url: string, count: number, offset: number): Promise<void> {
  const s: ClientSet = { closers: [], expected: undefined, times: [], pending: 0 }
  sets.set(set, s)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const n = offset + next++
      await open(set, s, kind, url, `127.0.0.${2 + (n % ADDRESSES)}`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, worker))
}

// run with --expose-gc: what connecting (or the previous server's connections) left behind is collected
// before the measured rounds, not during one of them
const collect = (): void => { (globalThis as { gc?: () => void }).gc?.() }

process.on('message', (cmd: Command) => {
  if (cmd.type === 'connect') {
    connectAll(cmd.set, cmd.kind, cmd.url, cmd.count, cmd.offset).then(() => send({ type: 'ready', set: cmd.set }), (err: unknown) => send({ type: 'failed', error: String(err) }))
  } else if (cmd.type === 'collect') {
    collect()
    send({ type: 'collected' })
  } else if (cmd.type === 'expect') {
    const s = sets.get(cmd.set) as ClientSet
    s.times = []
    s.pending = s.closers.length
    s.expected = `"type":"update","seq":${cmd.seq},`
    send({ type: 'armed', set: cmd.set })
  } else if (cmd.type === 'close') {
    for (const close of sets.get(cmd.set)?.closers ?? []) close()
    sets.delete(cmd.set)
    collect()
    send({ type: 'closed', set: cmd.set })
  } else {
    for (const s of sets.values()) for (const close of s.closers) close()
    process.exit(0)
  }
})
