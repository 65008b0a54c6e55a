// The targets of the performance work, each with the looser threshold below which `--quick` fails CI:
// a ratio in the same run cancels most of the machine's speed, but not the noise of a shared 2-core box.
import type { Figure } from './stats.js'
import { ratio } from './stats.js'

type Sum = Record<'connectS' | 'rss' | 'heap' | 'p50' | 'p99' | 'sendMs', Figure>
export interface Parts {
  rest?: { rates200: number, rates304: number, rate200: number, history200: number }
  hub?: { sizes: number[], results: Record<string, Record<string, Sum>> }
  poll?: { cpuMs: Figure, coldStartMs: Figure }
  widget?: { gzip: number, brotli: number, renderedMs: Figure }
}

/**
 * One line of the table. `higher`: the figure must be at least `target`; else at most. `gate`: the CI
 * threshold, or null where the figure is an absolute wall time that a loaded machine moves too much.
 */
export interface Target { name: string, value: number | undefined, target: number, gate: number | null, higher: boolean, unit: string }

export function targets (p: Parts): Target[] {
  const out: Target[] = []
  const rest = (name: string, value: number | undefined): void => { out.push({ name, value, target: 0.9, gate: 0.6, higher: true, unit: '× req/s' }) }
  rest('REST /v1/rates 200 (full, filtered; default and warn logging)', p.rest?.rates200)
  rest('REST /v1/rates 304 (full, filtered; default and warn logging)', p.rest?.rates304)
  rest('REST /v1/rates/:base 200', p.rest?.rate200)
  rest('REST /v1/history/:base 200', p.rest?.history200)
  for (const n of p.hub?.sizes ?? []) {
    const s = p.hub?.results[String(n)]
    const hub = s?.['hub-ws']
    const raw = s?.['raw-ws']
    const r = (k: keyof Sum): number | undefined => hub === undefined || raw === undefined ? undefined : ratio(hub[k].median, raw[k].median)
    out.push({ name: `WS fan-out p99, ${n} clients, hub / raw ws`, value: r('p99'), target: 1.0, gate: 1.5, higher: false, unit: '×' })
    out.push({ name: `WS RSS per idle connection, ${n}, hub / raw ws`, value: r('rss'), target: 1.2, gate: 1.6, higher: false, unit: '×' })
    out.push({ name: `WS heap per idle connection, ${n}, hub / raw ws`, value: r('heap'), target: 1.2, gate: 1.6, higher: false, unit: '×' })
    const c = r('connectS')
    out.push({ name: `WS connect rate, ${n} clients, hub / raw ws`, value: c === undefined ? undefined : 1 / c, target: 0.8, gate: 0.5, higher: true, unit: '×' })
    const sio = s?.socketio
    if (sio !== undefined && hub !== undefined) {
      out.push({ name: `p99 vs Socket.IO, ${n} clients, hub / socket.io`, value: ratio(hub.p99.median, sio.p99.median), target: 0.5, gate: 0.8, higher: false, unit: '×' })
      out.push({ name: `RSS per connection vs Socket.IO, ${n}, hub / socket.io`, value: ratio(hub.rss.median, sio.rss.median), target: 0.5, gate: 0.8, higher: false, unit: '×' })
    }
  }
  out.push({ name: 'poll cycle CPU (ten payloads + reconcile)', value: p.poll?.cpuMs.median, target: 20, gate: 40, higher: false, unit: 'ms' })
  out.push({ name: 'cold start to snapshot served', value: p.poll?.coldStartMs.median, target: 1000, gate: null, higher: false, unit: 'ms' })
  out.push({ name: 'widget gzip size', value: p.widget?.gzip, target: 4096, gate: 6144, higher: false, unit: 'B' })
  return out
}

export const meets = (t: Target, bound: number): boolean =>
  t.value !== undefined && Number.isFinite(t.value) && (t.higher ? t.value >= bound : t.value <= bound)

/** The figure the issue asks latest.json to carry, service / baseline, at the first (and largest) size. */
export function latest (p: Parts): object {
  const fanout = (n: number): object | undefined => {
    const s = p.hub?.results[String(n)]
    const hub = s?.['hub-ws']
    const raw = s?.['raw-ws']
    if (hub === undefined || raw === undefined) return undefined
    const sio = s?.socketio
    const sse = s?.['hub-sse']
    return {
      clients: n,
      p99: ratio(hub.p99.median, raw.p99.median),
      rss: ratio(hub.rss.median, raw.rss.median),
      heap: ratio(hub.heap.median, raw.heap.median),
      connect: ratio(hub.connectS.median, raw.connectS.median),
      ...(sio !== undefined && { socketio: { p99: ratio(hub.p99.median, sio.p99.median), rss: ratio(hub.rss.median, sio.rss.median), heap: ratio(hub.heap.median, sio.heap.median) } }),
      ...(sse !== undefined && { sse: { p99Ms: sse.p99.median, rssPerConn: sse.rss.median, heapPerConn: sse.heap.median, p99VsWs: ratio(sse.p99.median, hub.p99.median) } })
    }
  }
  const sizes = p.hub?.sizes ?? []
  return {
    rest: p.rest,
    fanout: sizes[0] === undefined ? undefined : { ...fanout(sizes[0]), bySize: Object.fromEntries(sizes.map((n) => [n, fanout(n)])) },
    poll: p.poll === undefined ? undefined : { cpuMs: p.poll.cpuMs.median, coldStartMs: p.poll.coldStartMs.median },
    widget: p.widget === undefined ? undefined : { gzip: p.widget.gzip, brotli: p.widget.brotli, renderedMs: p.widget.renderedMs.median }
  }
}
