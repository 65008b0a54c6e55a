import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { WebSocket, WebSocketServer } from 'ws'
import type { Snapshot } from '../../src/domain/rate.js'
import { createFanout } from '../../src/hub/fanout.js'
import type { Peer } from '../../src/hub/fanout.js'
import { createFrame, filterOf } from '../../src/hub/messages.js'
import type { Frame } from '../../src/hub/messages.js'
import { textFrame, writeFrame } from '../../src/hub/ws-write.js'
import { fiveRates } from '../support/snapshot.js'
import { until } from '../support/until.js'

const snapshotAt = (seq: number, kzt: number): Snapshot => ({ quote: 'USD', seq, updatedAt: '2025-11-26T06:00:00.000Z', rates: fiveRates({ KZT: kzt }) })

interface Recorder extends Peer { frames: Frame[] }
const recorder = (symbols?: string[]): Recorder => {
  const frames: Frame[] = []
  return { transport: 'ws', filter: filterOf(symbols), frames, deliver: (frame) => { frames.push(frame); return true } }
}
const turn = async (): Promise<void> => { await new Promise<void>((resolve) => setImmediate(resolve)) }

/** A clock that moves `step` ms each time it is read: each delivery then costs `step` ms of the slice. */
const ticking = (step: number): () => number => {
  let t = 0
  return () => (t += step)
}

t.test('a broadcast writes for one slice of time per turn of the event loop, the same frame to each', async (t) => {
  const counted: number[] = []
  const fanout = createFanout({ now: () => new Date(), sliceMs: 10, clock: ticking(1), sent: (_transport, _type, count) => { counted.push(count) } })
  const peers = Array.from({ length: 35 }, () => recorder())
  for (const p of peers) fanout.add(p)
  fanout.publish(snapshotAt(2, 501), snapshotAt(1, 500))
  const delivered = (): number => peers.filter((p) => p.frames.length === 1).length
  t.equal(delivered(), 10, 'only the first slice is written before the publisher gets the loop back')
  await turn()
  t.equal(delivered(), 20, 'the next slice follows a turn later')
  await until(() => delivered() === 35, { timeoutMs: 5000, what: 'every client served' })
  const first = peers[0]?.frames[0]
  t.ok(peers.every((p) => p.frames[0] === first), 'one frame object, serialised once, for the whole group')
  t.match(JSON.parse(first?.json ?? ''), { type: 'update', seq: 2, rates: [{ base: 'KZT' }] })
  await until(() => counted.length === 1, { timeoutMs: 5000, what: 'the count reported' })
  t.same(counted, [35], 'sent counted once per group, after the last client')
})

t.test('a turn ends after its slice of time however slowly sockets take their frames', async (t) => {
  // each socket here takes 1 ms, as a loaded machine's kernel may: a count of sockets per turn would hold
  // the loop for as many milliseconds as the count
  const slow = (): Recorder => {
    const r = recorder()
    const deliver = r.deliver
    r.deliver = (frame) => {
      const until = performance.now() + 1
      while (performance.now() < until);
      return deliver(frame)
    }
    return r
  }
  const fanout = createFanout({ now: () => new Date(), sliceMs: 5, sent: () => {} })
  const peers = Array.from({ length: 40 }, slow)
  for (const p of peers) fanout.add(p)
  const started = performance.now()
  fanout.publish(snapshotAt(2, 501), snapshotAt(1, 500))
  const held = performance.now() - started
  const delivered = (): number => peers.filter((p) => p.frames.length === 1).length
  t.ok(delivered() >= 1 && delivered() <= 5, `the first turn wrote what fits in 5 ms: ${delivered()} sockets, the loop back after ${held.toFixed(1)} ms`)
  await until(() => delivered() === 40, { timeoutMs: 5000, what: 'every client served' })
})

t.test('back-to-back publishes reach every client in order, and a client that re-subscribed mid-way is skipped', async (t) => {
  const fanout = createFanout({ now: () => new Date(), sliceMs: 4, clock: ticking(1), sent: () => {} })
  const peers = Array.from({ length: 12 }, () => recorder())
  for (const p of peers) fanout.add(p)
  const moved = peers[11] as Recorder
  fanout.publish(snapshotAt(2, 501), snapshotAt(1, 500))
  fanout.publish(snapshotAt(3, 502), snapshotAt(2, 501))
  fanout.move(moved, filterOf(['UZS']))
  await until(() => peers.slice(0, 11).every((p) => p.frames.length === 2), { timeoutMs: 5000, what: 'both updates delivered' })
  for (const p of peers.slice(0, 11)) {
    t.same(p.frames.map((f) => (JSON.parse(f.json) as { seq: number }).seq), [2, 3])
  }
  await turn()
  t.equal(moved.frames.length, 0, 'the frames of its old filter are not sent after it moved')
})

t.test('a shared frame is what ws itself would send, in order with what ws sends itself', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  t.teardown(() => { wss.close() })
  await once(wss, 'listening')
  const accepted = once(wss, 'connection')
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`)
  t.teardown(() => client.terminate())
  const got: string[] = []
  client.on('message', (data, isBinary) => { got.push(`${isBinary ? 'bin' : 'text'}:${String(data)}`) })
  const [server] = await accepted as [WebSocket]
  const frame = createFrame({ type: 'heartbeat', seq: 7, status: 'live', nextExpectedAt: null })
  t.ok(textFrame(frame.ws()).subarray(2).equals(frame.ws()), 'a 2-byte header before the payload for a small message')
  writeFrame(server, frame.wsFrame(), frame.ws())
  const big = Buffer.from(JSON.stringify({ type: 'heartbeat', pad: 'x'.repeat(70_000) }))
  writeFrame(server, textFrame(big), big)
  server.send('from ws itself')
  writeFrame(server, frame.wsFrame(), frame.ws())
  await until(() => got.length === 4, { timeoutMs: 5000, what: 'four messages' })
  t.same(got, [`text:${frame.json}`, `text:${String(big)}`, 'text:from ws itself', `text:${frame.json}`], 'in order, whole, a 64 KB+ payload with its 10-byte header')
})
