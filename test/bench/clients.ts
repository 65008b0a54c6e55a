// Bench client process: opens `count` WebSocket connections and reports when each receives the awaited seq.
import { performance } from 'node:perf_hooks'
import { WebSocket } from 'ws'

type Command = { type: 'connect', set: string, url: string, count: number } | { type: 'expect', set: string, seq: number } | { type: 'stop' }

const IN_FLIGHT = 100
const send = (msg: object): void => { process.send?.(msg) }
const now = (): number => performance.timeOrigin + performance.now()

/** The connections to one server, and the round they wait for. */
interface ClientSet { sockets: WebSocket[], expected: Buffer | undefined, times: number[], pending: number }
const sets = new Map<string, ClientSet>()

function onMessage (set: string, s: ClientSet, data: Buffer): void {
  // a substring check, not JSON.parse: the client processes must not be the bottleneck being measured
  if (s.expected === undefined || !data.includes(s.expected)) return
  s.times.push(now())
  if (--s.pending === 0) {
    send({ type: 'received', set, times: s.times })
    s.expected = undefined
  }
}

async function open (set: string, s: ClientSet, url: string): Promise<void> {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  s.sockets.push(ws)
  ws.on('message', (data: Buffer) => onMessage(set, s, data))
  await new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve()) // the snapshot: the connection is fully set up
    ws.once('error', reject)
    ws.once('close', (code) => reject(new Error(`closed with ${code} before the snapshot`)))
  })
}

async function connectAll (set: string, url: string, count: number): Promise<void> {
  const s: ClientSet = { sockets: [], expected: undefined, times: [], pending: 0 }
  sets.set(set, s)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++
      await open(set, s, url)
    }
  }
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, worker))
}

process.on('message', (cmd: Command) => {
  if (cmd.type === 'connect') {
    connectAll(cmd.set, cmd.url, cmd.count).then(() => send({ type: 'ready', set: cmd.set }), (err: unknown) => send({ type: 'failed', error: String(err) }))
  } else if (cmd.type === 'expect') {
    const s = sets.get(cmd.set) as ClientSet
    s.times = []
    s.pending = s.sockets.length
    s.expected = Buffer.from(`"type":"update","seq":${cmd.seq},`)
    send({ type: 'armed', set: cmd.set })
  } else {
    for (const s of sets.values()) for (const ws of s.sockets) ws.terminate()
    process.exit(0)
  }
})
