import t from 'tap'
import type { Rate, Snapshot } from '../../src/domain/rate.js'
import { createFanout } from '../../src/hub/fanout.js'
import type { Peer, Transport } from '../../src/hub/fanout.js'
import { filterOf } from '../../src/hub/messages.js'
import type { Frame } from '../../src/hub/messages.js'
import { fiveRates } from '../support/snapshot.js'

const NOW = new Date('2025-11-26T12:00:00.000Z')

function snapshotOf (seq: number, rates: Rate[]): Snapshot {
  return { quote: 'USD', seq, updatedAt: NOW.toISOString(), rates }
}

interface FakePeer extends Peer { frames: Frame[] }

/** A client that records what it is handed; `accepts` false plays a client dropped for being too far behind. */
function peer (transport: Transport, symbols?: string[], accepts = true): FakePeer {
  const frames: Frame[] = []
  return { transport, filter: filterOf(symbols), frames, deliver: (frame) => { frames.push(frame); return accepts } }
}

function fanout (): { fan: ReturnType<typeof createFanout>, sent: Array<[Transport, string, number]> } {
  const sent: Array<[Transport, string, number]> = []
  const fan = createFanout({ sent: (transport, type, count) => { sent.push([transport, type, count]) }, now: () => NOW })
  return { fan, sent }
}

const parsed = (frame: Frame | undefined): unknown => JSON.parse(frame?.json ?? 'null')
const pairs = (frame: Frame | undefined): string[] => (parsed(frame) as { rates: Rate[] }).rates.map((r) => r.pair)

const DAY1 = snapshotOf(1, fiveRates())
// only KZT moves on day two
const DAY2 = snapshotOf(2, fiveRates({ KZT: 510.12 }))

t.test('an update carries only the changed rates, to the clients whose filter includes them', async (t) => {
  const { fan, sent } = fanout()
  const all = peer('ws')
  const kzt = peer('ws', ['KZT'])
  const kztTjs = peer('sse', ['TJS', 'KZT'])
  const tjs = peer('ws', ['TJS'])
  for (const p of [all, kzt, kztTjs, tjs]) fan.add(p)

  fan.publish(DAY2, DAY1)
  for (const p of [all, kzt, kztTjs]) {
    t.equal(p.frames.length, 1, `${p.filter.key}: one message`)
    t.match(parsed(p.frames[0]), { type: 'update', seq: 2 })
    t.same(pairs(p.frames[0]), ['KZT/USD'], `${p.filter.key}: only the changed rate`)
  }
  t.equal((parsed(all.frames[0]) as { rates: Rate[] }).rates[0]?.inverse, 510.12, 'the new value')
  t.same(tjs.frames, [], 'a filter whose rates did not change gets nothing')
  t.same(sent.sort(), [['sse', 'update', 1], ['ws', 'update', 1], ['ws', 'update', 1]], 'counted per transport and group')
})

t.test('a message is serialised once per distinct set of rates and the same bytes go to every client', async (t) => {
  const { fan, sent } = fanout()
  const a = [peer('ws'), peer('ws'), peer('sse')]
  const kzt = [peer('ws', ['KZT']), peer('sse', ['KZT'])]
  // a different filter that yields the same rates for this change shares the serialised message too
  const overlapping = peer('ws', ['KZT', 'UZS'])
  for (const p of [...a, ...kzt, overlapping]) fan.add(p)

  fan.publish(DAY2, DAY1)
  const frame = a[0]?.frames[0]
  t.ok(frame !== undefined)
  for (const p of [...a, ...kzt, overlapping]) t.equal(p.frames[0], frame, `${p.transport} ${p.filter.key}: the same frame object`)
  t.equal(frame?.ws(), frame?.ws(), 'the WebSocket bytes are built once')
  t.equal(frame?.sse(), frame?.sse(), 'the SSE bytes are built once')
  t.match(frame?.sse().toString(), /^event: update\nid: 2\ndata: \{.*\}\n\n$/)

  // with two rates changed, the filters yield different sets: one message per set
  const all = peer('ws')
  const { fan: second } = fanout()
  for (const p of [all, kzt[0] as FakePeer, overlapping]) second.add(p)
  second.publish(snapshotOf(3, fiveRates({ KZT: 511, UZS: 12050 })), DAY2)
  t.same(pairs(all.frames.at(-1)), ['KZT/USD', 'UZS/USD'])
  t.same(pairs(kzt[0]?.frames.at(-1)), ['KZT/USD'])
  t.same(pairs(overlapping.frames.at(-1)), ['KZT/USD', 'UZS/USD'])
  t.equal(overlapping.frames.at(-1), all.frames.at(-1), 'the same set of rates, the same frame')
  t.not(kzt[0]?.frames.at(-1), all.frames.at(-1), 'another set, another frame')
  t.same(sent.filter(([, type]) => type === 'update').map(([, , n]) => n).reduce((x, y) => x + y, 0), 6, 'six clients counted')
})

t.test('a publish that changes no published field sends nothing', async (t) => {
  const { fan, sent } = fanout()
  const all = peer('ws')
  fan.add(all)
  fan.publish(snapshotOf(2, fiveRates()), DAY1)
  // a field set to undefined serialises like an absent one: no change either
  fan.publish(snapshotOf(3, fiveRates().map((r) => ({ ...r, extra: undefined }))), snapshotOf(2, fiveRates()))
  t.same(all.frames, [])
  t.same(sent, [])
})

t.test('a change in any published field of a rate is an update of that rate', async (t) => {
  const changes: Array<[string, Partial<Rate>]> = [
    ['stale', { stale: true }],
    ['change', { change: { pct: 0.5, abs: 0.000001, prevPrice: 0.1, prevDate: '2025-11-25' } }],
    ['nextExpectedAt', { nextExpectedAt: '2025-11-28T00:00:00.000Z' }],
    ['sources', { sources: [{ id: 'nbk', inverse: 509.87, date: '2025-11-26', used: true }] }],
    ['date', { date: '2025-11-27' }]
  ]
  for (const [field, override] of changes) {
    const { fan } = fanout()
    const all = peer('ws')
    fan.add(all)
    const next = DAY1.rates.map((r) => (r.base === 'TJS' ? { ...r, ...override } : r))
    fan.publish(snapshotOf(2, next), DAY1)
    t.same(pairs(all.frames[0]), ['TJS/USD'], `${field}: TJS updated`)
  }
})

t.test('the first publish, or a pair that disappeared, sends every group a filtered snapshot', async (t) => {
  const { fan, sent } = fanout()
  const all = peer('ws')
  const kzt = peer('sse', ['KZT'])
  const unknown = peer('ws', ['XYZ'])
  for (const p of [all, kzt, unknown]) fan.add(p)

  fan.publish(DAY1, undefined)
  t.match(parsed(all.frames[0]), { type: 'snapshot', seq: 1 })
  t.equal(pairs(all.frames[0]).length, 5)
  t.same(pairs(kzt.frames[0]), ['KZT/USD'])
  t.same(pairs(unknown.frames[0]), [], 'a filter that matches nothing still learns the seq')

  const withoutTmt = snapshotOf(2, fiveRates().filter((r) => r.base !== 'TMT'))
  fan.publish(withoutTmt, DAY1)
  t.match(parsed(all.frames[1]), { type: 'snapshot', seq: 2 }, 'an update cannot say a rate is gone')
  t.equal(pairs(all.frames[1]).length, 4)
  t.same(pairs(kzt.frames[1]), ['KZT/USD'])
  t.equal(sent.filter(([, type]) => type === 'snapshot').length, 6)
})

t.test('a client that refuses a frame is not counted as sent', async (t) => {
  const { fan, sent } = fanout()
  const slow = peer('ws', undefined, false)
  const fine = peer('ws')
  fan.add(slow)
  fan.add(fine)
  fan.publish(DAY2, DAY1)
  t.equal(slow.frames.length, 1, 'offered')
  t.same(sent, [['ws', 'update', 1]])
})

t.test('clients join, leave and change filter; an emptied group is gone', async (t) => {
  const { fan } = fanout()
  const a = peer('ws', ['KZT'])
  const b = peer('sse', ['KZT'])
  fan.add(a)
  fan.add(b)
  t.equal(fan.size(), 2)
  t.same([...fan.peers()], [a, b])
  fan.move(a, filterOf(['TJS']))
  t.equal(a.filter.key, 'TJS')
  t.equal(fan.size(), 2)

  fan.publish(DAY2, DAY1)
  t.equal(b.frames.length, 1, 'the client left behind still gets KZT')
  t.equal(a.frames.length, 0, 'the moved client no longer does')

  fan.remove(b)
  fan.remove(b)
  t.equal(fan.size(), 1, 'removing twice is harmless')
  fan.publish(snapshotOf(3, fiveRates({ KZT: 512 })), DAY2)
  t.equal(b.frames.length, 1, 'a removed client gets nothing')
  fan.remove(a)
  t.equal(fan.size(), 0)
  t.same([...fan.peers()], [])
})

t.test('a greeting is a snapshot, or a lone heartbeat for a current client, and is built once per seq and filter', async (t) => {
  const { fan } = fanout()
  const kzt = filterOf(['KZT'])
  t.same(parsed(fan.greeting(undefined, kzt, undefined)), { type: 'heartbeat', seq: 0, status: 'idle', nextExpectedAt: null }, 'nothing published yet')

  const first = fan.greeting(DAY1, kzt, undefined)
  t.match(parsed(first), { type: 'snapshot', seq: 1 })
  t.same(pairs(first), ['KZT/USD'])
  t.equal(fan.greeting(DAY1, filterOf(['KZT']), 0), first, 'the same filter and seq reuse the frame')
  t.not(fan.greeting(DAY1, filterOf(['TJS']), undefined), first, 'another filter, another frame')

  const current = fan.greeting(DAY1, kzt, 1)
  t.same(parsed(current), { type: 'heartbeat', seq: 1, status: 'live', nextExpectedAt: '2025-11-27T00:00:00.000Z' }, 'a client at the seq gets a heartbeat')
  t.equal(fan.greeting(DAY1, kzt, 1), current)

  const next = fan.greeting(DAY2, kzt, 1)
  t.match(parsed(next), { type: 'snapshot', seq: 2 }, 'a new seq, a new snapshot')
  t.not(next, first)
  // a heartbeat round starts a new cache: a lone heartbeat's time-dependent fields are fresh again
  fan.heartbeat(DAY2)
  t.not(fan.greeting(DAY2, kzt, undefined), next)
})

t.test('a heartbeat round sends each group one frame that describes its own rates', async (t) => {
  const { fan, sent } = fanout()
  const all = [peer('ws'), peer('sse')]
  const peg = peer('ws', ['TMT'])
  const stale = peer('ws', ['KZT'])
  for (const p of [...all, peg, stale]) fan.add(p)
  const rates = fiveRates().map((r) => (r.base === 'KZT' ? { ...r, stale: true, nextExpectedAt: '2025-11-26T18:00:00.000Z' } : r))

  fan.heartbeat(snapshotOf(7, rates))
  t.equal(all[0]?.frames[0], all[1]?.frames[0], 'one frame per group')
  t.same(parsed(all[0]?.frames[0]), { type: 'heartbeat', seq: 7, status: 'live', nextExpectedAt: '2025-11-26T18:00:00.000Z' }, 'the earliest future fixing')
  t.same(parsed(peg.frames[0]), { type: 'heartbeat', seq: 7, status: 'live', nextExpectedAt: null }, 'the peg alone is live')
  t.same(parsed(stale.frames[0]), { type: 'heartbeat', seq: 7, status: 'idle', nextExpectedAt: '2025-11-26T18:00:00.000Z' }, 'only stale rates: idle')
  t.same(sent.sort(), [['sse', 'heartbeat', 1], ['ws', 'heartbeat', 1], ['ws', 'heartbeat', 1], ['ws', 'heartbeat', 1]])

  fan.heartbeat(undefined)
  t.same(parsed(stale.frames[1]), { type: 'heartbeat', seq: 0, status: 'idle', nextExpectedAt: null }, 'before the first publish')
})
