// Fan-out benchmark: N WebSocket clients (spread over child processes) on one instance of the real app,
// and N more on a bare `ws` server broadcasting the same bytes, each server in its own process. Rounds
// alternate between the two so that background load hits both alike. Reports the delivery latency of
// one update (p50/p99/max over every client of every measured round) and server memory per connection.
//
//   npx tsx test/bench/hub.ts        BENCH_CLIENTS (10000), BENCH_PROCS (4), BENCH_ROUNDS (10)
//
// Each connection costs one file descriptor in its server process and one in a client process, so
// `ulimit -n` must exceed BENCH_CLIENTS (server) and 2 × BENCH_CLIENTS / BENCH_PROCS (clients). Loopback
// connections use ephemeral ports (net.ipv4.ip_local_port_range, about 28,000 by default): 2 × BENCH_CLIENTS
// must stay below that.
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const N = Number(process.env.BENCH_CLIENTS ?? 10_000)
const PROCS = Number(process.env.BENCH_PROCS ?? 4)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10)
const TARGETS = ['hub', 'raw'] as const
type Target = typeof TARGETS[number]
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))

interface Mem { rss: number, heapUsed: number }

function spawn (file: string, args: string[] = [], env: Record<string, string> = {}): ChildProcess {
  return fork(here(file), args, { execArgv: ['--import', 'tsx', '--expose-gc'], env: { ...process.env, ...env }, stdio: 'inherit' })
}

/** Sends `msg` (if any) and resolves with the child's next message of type `reply` (for `set`, if given). */
async function ask<T> (child: ChildProcess, reply: string, msg?: object, set?: string): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const onMessage = (m: { type: string, set?: string, error?: string }): void => {
      if (m.type === 'failed') { child.off('message', onMessage); reject(new Error(m.error)) }
      if (m.type !== reply || (set !== undefined && m.set !== set)) return
      child.off('message', onMessage)
      resolve(m as T)
    }
    child.on('message', onMessage)
    if (msg !== undefined) child.send(msg)
  })
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN

const servers = new Map<Target, { child: ChildProcess, port: number, before: Mem, after?: Mem, latencies: number[], roundP99: number[], loopMs: number[], connectS: number }>()
for (const target of TARGETS) {
  // heartbeats and pings are timer-driven broadcasts of their own: kept out of the measured rounds
  const child = spawn('./server.ts', [target], {
    WS_MAX_CONNECTIONS_PER_IP: String(N + 1000),
    WS_MAX_CONNECTIONS: String(N + 1000),
    WS_HEARTBEAT_MS: '3600000',
    WS_PING_MS: '3600000'
  })
  const { port } = await ask<{ port: number }>(child, 'listening')
  const before = await ask<Mem>(child, 'mem', { type: 'mem' })
  servers.set(target, { child, port, before, latencies: [], roundP99: [], loopMs: [], connectS: 0 })
}
const clients = Array.from({ length: PROCS }, () => spawn('./clients.ts'))
await Promise.all(clients.map(async (c) => await new Promise((resolve) => c.once('spawn', resolve))))

for (const [target, s] of servers) {
  const started = Date.now()
  await Promise.all(clients.map(async (c, i) => {
    const count = Math.floor(N / PROCS) + (i < N % PROCS ? 1 : 0)
    const url = `ws://127.0.0.1:${s.port}${target === 'hub' ? '/v1/ws' : '/'}`
    await ask(c, 'ready', { type: 'connect', set: target, url, count }, target)
  }))
  s.connectS = (Date.now() - started) / 1000
  s.after = await ask<Mem>(s.child, 'mem', { type: 'mem' })
}

for (let round = 1; round <= ROUNDS + 1; round++) {
  for (const [target, s] of servers) {
    const seq = round + 1
    await Promise.all(clients.map(async (c) => await ask(c, 'armed', { type: 'expect', set: target, seq }, target)))
    const received = Promise.all(clients.map(async (c) => await ask<{ times: number[] }>(c, 'received', undefined, target)))
    const { t0, loopMs } = await ask<{ t0: number, loopMs: number }>(s.child, 'published', { type: 'publish', round })
    const all = (await received).flatMap((r) => r.times)
    if (all.length !== N) throw new Error(`${target}: ${all.length} of ${N} clients received seq ${seq}`)
    if (round === 1) continue // warm-up: JIT and first-touch allocations
    s.loopMs.push(loopMs)
    const round99 = all.map((t) => t - t0).sort((a, b) => a - b)
    s.roundP99.push(pct(round99, 99))
    s.latencies.push(...round99)
  }
}
for (const c of clients) c.send({ type: 'stop' })
for (const s of servers.values()) s.child.send({ type: 'stop' })
await Promise.all([...clients, ...[...servers.values()].map((s) => s.child)].map(async (p) => await new Promise((resolve) => p.once('exit', resolve))))

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
const rows = [...servers].map(([target, s]) => {
  const sorted = [...s.latencies].sort((a, b) => a - b)
  const after = s.after as Mem
  return {
    target,
    p50: pct(sorted, 50),
    p99: pct(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    loopMs: median(s.loopMs),
    p99Median: median(s.roundP99),
    rss: (after.rss - s.before.rss) / N,
    heap: (after.heapUsed - s.before.heapUsed) / N,
    connectS: s.connectS
  }
})
const ms = (x: number): string => x.toFixed(1).padStart(8)
const kb = (x: number): string => (x / 1024).toFixed(1).padStart(12)
const [hub, raw] = rows as [typeof rows[0], typeof rows[0]]
const lines = [
  `fan-out of one update to ${N} WebSocket clients per server (${PROCS} client processes, ${ROUNDS} alternating rounds after a warm-up)`,
  '',
  'server   p50 ms   p99 ms   max ms  p99 med  send ms  RSS KB/conn  heap KB/conn  connect s',
  ...rows.map((r) => `${r.target.padEnd(6)}${ms(r.p50)} ${ms(r.p99)} ${ms(r.max)} ${ms(r.p99Median)} ${ms(r.loopMs)} ${kb(r.rss)}  ${kb(r.heap)}  ${r.connectS.toFixed(1).padStart(9)}`),
  '',
  `hub p99 / raw p99 = ${(hub.p99 / raw.p99).toFixed(2)} over all rounds, ${(hub.p99Median / raw.p99Median).toFixed(2)} as the median of per-round p99 (target <= 1.2)`,
  `send ms = median time the server spends in its publish call; hub / raw = ${(hub.loopMs / raw.loopMs).toFixed(2)}`
]
process.stdout.write(`${lines.join('\n')}\n`)
