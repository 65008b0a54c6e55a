// Fan-out benchmark: N clients (spread over client processes and source addresses) on one server process
// per contender: the hub over WebSocket, a bare `ws` server broadcasting the same bytes, the hub over SSE,
// and Socket.IO (websocket transport, io.emit). Each repetition starts every contender afresh and connects
// its clients, in turn, which measures the connect time of N clients and server memory per idle connection;
// then the contenders take turns round by round, each delivering one update to every one of its clients.
//
//   node --import tsx test/bench/hub.ts [--quick]   BENCH_CLIENTS (10000,19900), BENCH_PROCS (4), BENCH_REPS (3), BENCH_ROUNDS (5)
//
// Each connection costs a file descriptor in its server and in a client process: `ulimit -n` must exceed N.
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { Kind } from './clients.js'
import { QUICK, figure, pct, ratio, show, table, within, writePart } from './stats.js'
import type { Figure } from './stats.js'

const SIZES = (process.env.BENCH_CLIENTS ?? (QUICK ? '2000' : '10000,19900')).split(',').map(Number)
const PROCS = Number(process.env.BENCH_PROCS ?? 4)
const REPS = Number(process.env.BENCH_REPS ?? (QUICK ? 2 : 3))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 3 : 5))
const WARM_CLIENTS = 2000
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))

interface Spec { name: string, server: string, kind: Kind, path: string }
const CONTENDERS: Spec[] = [
  { name: 'hub-ws', server: 'hub', kind: 'ws', path: '/v1/ws' },
  { name: 'raw-ws', server: 'raw', kind: 'ws', path: '/' },
  { name: 'hub-sse', server: 'hub', kind: 'sse', path: '/v1/stream' },
  { name: 'socketio', server: 'socketio', kind: 'socketio', path: '' }
]
// the larger size is the WebSocket comparison the targets name; SSE and Socket.IO are compared at the first.
// SSE has no ratio target (its figures are printed beside WebSocket's), so the quick run leaves it out.
const contendersAt = (n: number): Spec[] => n !== SIZES[0] ? CONTENDERS.slice(0, 2) : QUICK ? CONTENDERS.filter((c) => c.kind !== 'sse') : CONTENDERS

interface Mem { rss: number, heapUsed: number }
interface Rep { connectS: number, rss: number, heap: number, p50: number, p99: number, sendMs: number }

// BENCH_SERVER_ARGV: extra node options for the server processes only, such as `--cpu-prof --cpu-prof-dir=/tmp/prof`
const SERVER_ARGV = (process.env.BENCH_SERVER_ARGV ?? '').split(' ').filter(Boolean)

function spawn (file: string, args: string[] = [], env: Record<string, string> = {}, argv: string[] = []): ChildProcess {
  return fork(here(file), args, { execArgv: ['--import', 'tsx', '--expose-gc', ...argv], env: { ...process.env, ...env }, stdio: 'inherit' })
}

/** Sends `msg` (if any) and resolves with the child's next message of type `reply` (for `set`, if given). */
async function ask<T> (child: ChildProcess, reply: string, msg?: object, set?: string, timeoutMs = 120_000): Promise<T> {
  let onMessage: ((m: { type: string, set?: string, error?: string }) => void) | undefined
  try {
    return await within(timeoutMs, `waiting for ${reply}`, new Promise<T>((resolve, reject) => {
      onMessage = (m) => {
        if (m.type === 'failed') reject(new Error(m.error))
        if (m.type === reply && (set === undefined || m.set === set)) resolve(m as T)
      }
      child.on('message', onMessage)
      if (msg !== undefined) child.send(msg)
    }))
  } finally {
    if (onMessage !== undefined) child.off('message', onMessage)
  }
}

async function exited (p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return
  await new Promise((resolve) => p.once('exit', resolve))
}

/** A contender's server with its N clients connected, and what its rounds measured so far. */
interface Live { spec: Spec, server: ChildProcess, set: string, n: number, connectS: number, before: Mem, after: Mem, latencies: number[], sends: number[] }

/** A fresh server for `spec`, its memory before and after N clients connected, and the time they took. */
async function start (spec: Spec, n: number, clients: ChildProcess[], set: string, live: Live[]): Promise<void> {
  const server = spawn('./server.ts', [spec.server], {
    WS_MAX_CONNECTIONS_PER_IP: String(n + 1000),
    WS_MAX_CONNECTIONS: String(n + 1000),
    // heartbeats and pings are timer-driven broadcasts of their own: kept out of the measured rounds
    WS_HEARTBEAT_MS: '3600000',
    WS_PING_MS: '3600000'
  }, SERVER_ARGV)
  const entry: Live = { spec, server, set, n, connectS: NaN, before: { rss: 0, heapUsed: 0 }, after: { rss: 0, heapUsed: 0 }, latencies: [], sends: [] }
  live.push(entry)
  const { port } = await ask<{ port: number }>(server, 'listening')
  entry.before = await ask<Mem>(server, 'mem', { type: 'mem' })
  const scheme = spec.kind === 'sse' ? 'http' : spec.kind === 'ws' ? 'ws' : 'http'
  const started = performance.now()
  await Promise.all(clients.map(async (c, i) => {
    const count = Math.floor(n / PROCS) + (i < n % PROCS ? 1 : 0)
    const offset = i * Math.ceil(n / PROCS)
    await ask(c, 'ready', { type: 'connect', set, kind: spec.kind, url: `${scheme}://127.0.0.1:${port}${spec.path}`, count, offset }, set, 300_000)
  }))
  entry.connectS = (performance.now() - started) / 1000
  entry.after = await ask<Mem>(server, 'mem', { type: 'mem' })
}

/** One update from one server to its N clients; the first round of each server is a warm-up. */
async function round (l: Live, clients: ChildProcess[], r: number): Promise<void> {
  const { set } = l
  await Promise.all(clients.map(async (c) => await ask(c, 'armed', { type: 'expect', set, seq: r + 1 }, set)))
  const received = Promise.all(clients.map(async (c) => await ask<{ times: number[] }>(c, 'received', undefined, set, 60_000)))
  l.server.send({ type: 'publish', round: r })
  const all = (await received).flatMap((x) => x.times)
  const { t0, loopMs } = await ask<{ t0: number, loopMs: number }>(l.server, 'published', { type: 'report' })
  if (all.length !== l.n) throw new Error(`${l.spec.name}: ${all.length} of ${l.n} clients received seq ${r + 1}`)
  if (r === 1) return // warm-up: JIT and first-touch allocations
  l.sends.push(loopMs)
  l.latencies.push(...all.map((t) => t - t0))
}

async function stop (l: Live, clients: ChildProcess[]): Promise<void> {
  await Promise.all(clients.map(async (c) => await ask(c, 'closed', { type: 'close', set: l.set }, l.set).catch(() => {})))
  l.server.send({ type: 'stop' })
  const killer = setTimeout(() => l.server.kill('SIGKILL'), 10_000)
  await exited(l.server)
  clearTimeout(killer)
}

/**
 * One repetition: every contender's server started afresh and connected in turn, then ROUNDS updates
 * after a warm-up, the contenders taking turns round by round, so that background load on the machine
 * falls on all of them alike rather than on whichever was running its rounds at the time.
 */
async function repetition (specs: Spec[], n: number, clients: ChildProcess[], tag: string): Promise<Map<string, Rep>> {
  const live: Live[] = []
  try {
    for (const spec of specs) await start(spec, n, clients, `${spec.name}-${tag}`, live)
    await Promise.all(clients.map(async (c) => await ask(c, 'collected', { type: 'collect' })))
    for (let r = 1; r <= ROUNDS + 1; r++) for (const l of live) await round(l, clients, r)
    return new Map(live.map((l) => {
      const latencies = [...l.latencies].sort((a, b) => a - b)
      const { before, after } = l
      return [l.spec.name, { connectS: l.connectS, rss: (after.rss - before.rss) / n, heap: (after.heapUsed - before.heapUsed) / n, p50: pct(latencies, 50), p99: pct(latencies, 99), sendMs: figure(l.sends).median }]
    }))
  } finally {
    for (const l of live) await stop(l, clients)
  }
}

type Summary = Record<keyof Rep, Figure>
const results: Record<string, Record<string, Summary>> = {}
const lines: string[] = []
for (const n of SIZES) {
  const clients = Array.from({ length: PROCS }, () => spawn('./clients.ts'))
  const reps = new Map<string, Rep[]>()
  try {
    // fresh client processes run their receive path interpreted and grow their heaps during the first
    // thousands of messages: whichever contender came first paid for it (two to three times its steady
    // p99 over the first rounds). One unmeasured pass of every contender, on fewer clients, warms them.
    await repetition(contendersAt(n), Math.min(n, WARM_CLIENTS), clients, 'warm')
    for (let rep = 0; rep < REPS; rep++) {
      // the order turns with each repetition, so that no contender always follows the same one
      const specs = contendersAt(n)
      const measured = await repetition([...specs.slice(rep % specs.length), ...specs.slice(0, rep % specs.length)], n, clients, String(rep))
      for (const [name, r] of measured) reps.set(name, [...(reps.get(name) ?? []), r])
    }
  } finally {
    for (const c of clients) c.send({ type: 'stop' })
    await Promise.all(clients.map(exited))
  }
  const summary: Record<string, Summary> = {}
  for (const [name, list] of reps) {
    summary[name] = Object.fromEntries((Object.keys(list[0] as Rep) as Array<keyof Rep>).map((k) => [k, figure(list.map((r) => r[k]))])) as Summary
  }
  results[String(n)] = summary
  lines.push(`\nfan-out of one update to ${n} clients per server (${PROCS} client processes, ${REPS} repetitions of ${ROUNDS} rounds after a warm-up); median (min–max)\n`,
    table(['server', 'p50 ms', 'p99 ms', 'held ms', 'RSS KB/conn', 'heap KB/conn', 'connect s'], Object.entries(summary).map(([name, s]) => [
      name, show(s.p50), show(s.p99), show(s.sendMs), show({ ...s.rss, median: s.rss.median / 1024, min: s.rss.min / 1024, max: s.rss.max / 1024 }), show({ ...s.heap, median: s.heap.median / 1024, min: s.heap.min / 1024, max: s.heap.max / 1024 }), show(s.connectS, 2)
    ])))
  const hub = summary['hub-ws'] as Summary
  const raw = summary['raw-ws'] as Summary
  lines.push(`hub-ws / raw-ws: p99 ${ratio(hub.p99.median, raw.p99.median).toFixed(2)}, RSS ${ratio(hub.rss.median, raw.rss.median).toFixed(2)}, heap ${ratio(hub.heap.median, raw.heap.median).toFixed(2)}, connect time ${ratio(hub.connectS.median, raw.connectS.median).toFixed(2)}`)
  const sio = summary.socketio
  if (sio !== undefined) lines.push(`hub-ws / socketio: p99 ${ratio(hub.p99.median, sio.p99.median).toFixed(2)}, RSS ${ratio(hub.rss.median, sio.rss.median).toFixed(2)}, heap ${ratio(hub.heap.median, sio.heap.median).toFixed(2)}`)
}
process.stdout.write(lines.join('\n') + '\n')
writePart('hub', { sizes: SIZES, procs: PROCS, reps: REPS, rounds: ROUNDS, results })
