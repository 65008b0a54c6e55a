import { diffRates } from '../domain/changes.js'
import type { Rate, Snapshot } from '../domain/rate.js'
import { createFrame, filterRates, heartbeatOf } from './messages.js'
import type { Filter, Frame } from './messages.js'

export type Transport = 'ws' | 'sse'

/** One connected client, whatever its transport. */
export interface Peer {
  readonly transport: Transport
  filter: Filter
  /** Queues the frame, or drops the peer when it is too far behind; false when nothing was queued. */
  deliver: (frame: Frame) => boolean
}

/** What the fan-out reports to metrics: counts per transport, once per group rather than per client. */
export type SentCounter = (transport: Transport, type: Frame['type'], count: number) => void

interface Group { filter: Filter, peers: Set<Peer> }

/** One frame on its way to the peers a group had when it was published. */
interface Job { key: string, frame: Frame, peers: Peer[], next: number, ws: number, sse: number }

/**
 * How long a broadcast writes before it lets the event loop turn, so that REST requests arriving during a
 * broadcast to 20,000 clients wait one slice, not the whole send. A write to a socket costs 5 to 25 µs
 * (the kernel's, nearly all of it), so a socket count would make the pause depend on the machine's load;
 * a turn costs about 30 µs, so 5 ms slices add well under 1% to a broadcast.
 */
export const SLICE_MS = 5

export interface FanoutOptions {
  sent: SentCounter
  now: () => Date
  sliceMs?: number
  /** Milliseconds from an arbitrary origin; what a slice is measured with. */
  clock?: () => number
}

/**
 * The clients of this instance grouped by filter. Each message is serialised once per group (or once per
 * distinct set of rates, when filters overlap) and the same bytes are queued on every client of the group.
 */
export function createFanout ({ sent, now, sliceMs = SLICE_MS, clock = () => performance.now() }: FanoutOptions) {
  const groups = new Map<string, Group>()
  // frames that depend only on (seq, filter): reused by every client that connects or subscribes at that seq
  let greetings = new Map<string, Frame>()
  let greetingsSeq = -1
  // one queue for every broadcast, so that each client gets frames in publish order whatever the chunking
  const jobs: Job[] = []
  let pumping = false

  const pump = (): void => {
    // at least one socket per turn, whatever the clock says
    const until = clock() + sliceMs
    let due = false
    while (!due && jobs.length > 0) {
      const job = jobs[0] as Job
      const { peers, frame, key } = job
      while (!due && job.next < peers.length) {
        const peer = peers[job.next++] as Peer
        // a client that subscribed to another filter meanwhile has had its snapshot; this frame is not for it
        if (peer.filter.key === key && peer.deliver(frame)) {
          if (peer.transport === 'ws') job.ws++
          else job.sse++
        }
        due = clock() >= until
      }
      if (job.next < peers.length) break
      jobs.shift()
      if (job.ws > 0) sent('ws', frame.type, job.ws)
      if (job.sse > 0) sent('sse', frame.type, job.sse)
    }
    pumping = jobs.length > 0
    if (pumping) setImmediate(pump)
  }

  // the first slice goes out at once; the rest follows turn by turn
  const deliverAll = (group: Group, frame: Frame): void => {
    jobs.push({ key: group.filter.key, frame, peers: [...group.peers], next: 0, ws: 0, sse: 0 })
    if (!pumping) pump()
  }

  const cached = (key: string, seq: number, make: () => Frame): Frame => {
    if (seq !== greetingsSeq) {
      greetings = new Map()
      greetingsSeq = seq
    }
    let frame = greetings.get(key)
    if (frame === undefined) {
      frame = make()
      greetings.set(key, frame)
    }
    return frame
  }

  return {
    size (): number {
      let n = 0
      for (const g of groups.values()) n += g.peers.size
      return n
    },
    * peers (): Generator<Peer> {
      for (const g of groups.values()) yield * g.peers
    },
    add (peer: Peer): void {
      let group = groups.get(peer.filter.key)
      if (group === undefined) {
        group = { filter: peer.filter, peers: new Set() }
        groups.set(peer.filter.key, group)
      }
      group.peers.add(peer)
    },
    remove (peer: Peer): void {
      const group = groups.get(peer.filter.key)
      if (group === undefined || !group.peers.delete(peer)) return
      if (group.peers.size === 0) groups.delete(peer.filter.key)
    },
    move (peer: Peer, filter: Filter): void {
      this.remove(peer)
      peer.filter = filter
      this.add(peer)
    },
    /** The first message on a (re)connect or subscribe: a lone heartbeat when the client is current, else a snapshot. */
    greeting (snapshot: Snapshot | undefined, filter: Filter, since: number | undefined): Frame {
      if (snapshot === undefined || since === snapshot.seq) {
        return cached(`h${filter.key}`, snapshot?.seq ?? 0, () => createFrame(heartbeatOf(snapshot, filter, now())))
      }
      return cached(`s${filter.key}`, snapshot.seq, () => createFrame({ type: 'snapshot', seq: snapshot.seq, rates: filterRates(snapshot.rates, filter) }))
    },
    /** Forwards one store publish: only changed rates, to the groups they concern. */
    publish (snapshot: Snapshot, previous: Snapshot | undefined): void {
      const changed = previous === undefined ? undefined : updatable(previous, snapshot)
      if (changed?.length === 0) return
      const frames = new Map<string, Frame>()
      for (const group of groups.values()) {
        const rates = filterRates(changed ?? snapshot.rates, group.filter)
        if (changed !== undefined && rates.length === 0) continue
        const key = rates.map((r) => r.pair).join(',')
        let frame = frames.get(key)
        if (frame === undefined) {
          frame = createFrame({ type: changed === undefined ? 'snapshot' : 'update', seq: snapshot.seq, rates })
          frames.set(key, frame)
        }
        deliverAll(group, frame)
      }
    },
    /** Proof of life for every client; built once per group. */
    heartbeat (snapshot: Snapshot | undefined): void {
      greetingsSeq = -1
      const t = now()
      for (const group of groups.values()) deliverAll(group, createFrame(heartbeatOf(snapshot, group.filter, t)))
    }
  }
}

export type Fanout = ReturnType<typeof createFanout>

/** The changed rates, or undefined when an update cannot say what changed (a pair is gone) and clients need a snapshot. */
function updatable (previous: Snapshot, next: Snapshot): Rate[] | undefined {
  const { changed, removed } = diffRates(previous.rates, next.rates)
  return removed.length > 0 ? undefined : changed
}
