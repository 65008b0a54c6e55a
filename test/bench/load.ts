// Load generator process (pinned to its own core by rest.ts): runs one autocannon measurement per command.
import autocannon from 'autocannon'

export interface LoadCommand { url: string, headers: Record<string, string>, connections: number, durationS: number }
export interface LoadResult { durationS: number, reqPerSec: number, p99: number, p50: number, codes: Record<string, number>, errors: number, timeouts: number }

process.on('message', (cmd: LoadCommand) => {
  autocannon({ url: cmd.url, headers: cmd.headers, connections: cmd.connections, duration: cmd.durationS, timeout: Math.max(2, cmd.durationS) })
    .then((r) => {
      const codes: Record<string, number> = {}
      for (const [code, { count }] of Object.entries(r.statusCodeStats ?? {})) codes[code] = count
      const answered = Object.values(codes).reduce((a, b) => a + b, 0)
      const result: LoadResult = { durationS: r.duration || cmd.durationS, reqPerSec: answered / (r.duration || cmd.durationS), p99: r.latency.p99, p50: r.latency.p50, codes, errors: r.errors, timeouts: r.timeouts }
      process.send?.(result)
    }, (err: unknown) => { process.send?.({ error: String(err) }) })
})
