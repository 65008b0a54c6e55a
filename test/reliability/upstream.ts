import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { Agent, createServer, get } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { startReplay } from '../../src/demo/replay.js'
import type { ReplayDay } from '../../src/demo/replay.js'
import { sourceUrlVariable } from '../../src/config.js'
import { SOURCE_IDS } from '../../src/domain/sources.js'
import type { SourceId } from '../../src/domain/sources.js'
import { FIXTURES } from '../support/fixture-server.js'
import { mapDates } from './formats.js'
import { misbehave } from './wire.js'
import type { Clean, TransportFault } from './wire.js'
import { bounded, daysBetween, plusDays } from './scope.js'
import type { Scope } from './scope.js'

export type { TransportFault }
export type RecordedDay = '2025-11-25' | '2025-11-26'

/** What a source's server does instead of answering normally: misbehave on the wire, or serve edited bytes. */
export interface Fault {
  transport?: TransportFault
  /** Edits the (latin1 view of the) payload; answers that it leaves unchanged are not counted as faulty. */
  mutate?: (text: string, id: SourceId) => string
}

export interface SourceStats {
  requests: number
  /** Answers that carried the fault. */
  faulty: number
  /** Connections from the service open now, and at most at once. */
  open: number
  maxOpen: number
  /** The longest a faulty request stayed open (still-open ones count up to now). */
  longestMs: number
}

export interface UpstreamOptions {
  /** The value date the recorded payloads are moved to, and which recorded day they come from. */
  date: string
  recorded: RecordedDay
  /** Pause between the bytes of a dripped body. */
  dripMs: number
  /** Bodies of the oversize fault are twice this long. */
  maxBytes: number
}

export interface Upstream {
  /** FX_SOURCE_<ID>_URL for every source. */
  env: Record<string, string>
  date: () => string
  setDay: (date: string, recorded: RecordedDay) => void
  /** The next calendar day, served from the other recorded day, so every currency moves. */
  advance: () => void
  setFault: (ids: readonly SourceId[], fault: Fault | undefined) => Promise<void>
  stats: (id: SourceId) => SourceStats
  resetStats: () => void
}

/**
 * The ten upstreams on loopback, each on its own port (so one can refuse connections), answering with the
 * recorded payloads moved to the chosen date, or with the fault set for it. Closed with the scope.
 */
export async function startUpstream (scope: Scope, options: UpstreamOptions): Promise<Upstream> {
  let date = options.date
  let recorded = options.recorded
  const replay = await startReplay({ fixturesDir: FIXTURES, day: recorded })
  scope.teardown(() => replay.close())
  const agent = new Agent({ keepAlive: true, maxSockets: 32 })
  scope.teardown(() => agent.destroy())
  const faults = new Map<SourceId, Fault>()
  const stats = new Map<SourceId, SourceStats>()
  const pending = new Map<SourceId, Map<ServerResponse, number>>()
  for (const id of SOURCE_IDS) {
    stats.set(id, { requests: 0, faulty: 0, open: 0, maxOpen: 0, longestMs: 0 })
    pending.set(id, new Map())
  }

  const fetchClean = async (path: string): Promise<Clean> => await new Promise((resolve, reject) => {
    get(`${replay.url}${path}`, { agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }))
      res.on('error', reject)
    }).on('error', reject)
  })

  const handle = async (id: SourceId, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const st = stats.get(id) as SourceStats
    st.requests++
    const clean = await fetchClean(req.url ?? '/')
    const shift = daysBetween(recorded, date)
    let body = clean.status === 200 ? Buffer.from(mapDates(clean.body.toString('latin1'), (iso) => plusDays(iso, shift)), 'latin1') : clean.body
    const fault = faults.get(id)
    if (fault?.transport !== undefined && clean.status === 200) {
      st.faulty++
      const started = Date.now()
      const open = pending.get(id) as Map<ServerResponse, number>
      open.set(res, started)
      res.once('close', () => {
        open.delete(res)
        st.longestMs = Math.max(st.longestMs, Date.now() - started)
      })
      misbehave(fault.transport, req, res, clean.type, body, st.faulty, options)
      return
    }
    if (fault?.mutate !== undefined && clean.status === 200) {
      const text = body.toString('latin1')
      const edited = fault.mutate(text, id)
      if (edited !== text) {
        st.faulty++
        body = Buffer.from(edited, 'latin1')
      }
    }
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`
    if (clean.status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end()
      return
    }
    res.writeHead(clean.status, { 'content-type': clean.type, ...(clean.status === 200 && { etag }) }).end(body)
  }

  const servers = new Map<SourceId, { server: Server, port: number, sockets: Set<Socket> }>()
  for (const id of SOURCE_IDS) {
    const sockets = new Set<Socket>()
    const server = createServer((req, res) => {
      handle(id, req, res).catch(() => { res.destroy() })
    })
    server.keepAliveTimeout = 5000
    server.on('connection', (socket: Socket) => {
      const st = stats.get(id) as SourceStats
      sockets.add(socket)
      st.open++
      st.maxOpen = Math.max(st.maxOpen, st.open)
      socket.once('close', () => { sockets.delete(socket); st.open-- })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.set(id, { server, port: (server.address() as AddressInfo).port, sockets })
  }
  const shut = async (id: SourceId): Promise<void> => {
    const s = servers.get(id)
    if (s === undefined || !s.server.listening) return
    const closed = once(s.server, 'close')
    s.server.close()
    for (const socket of s.sockets) socket.destroy()
    await bounded(closed, 5000, `closing the ${id} upstream`)
  }
  scope.teardown(async () => { await Promise.all(SOURCE_IDS.map(shut)) })

  return {
    // the matrix is about the live poll; the archives are asked by the backfill tests
    env: { ...Object.fromEntries(SOURCE_IDS.map((id) => [sourceUrlVariable(id), `http://127.0.0.1:${servers.get(id)?.port ?? 0}/${id}`])), FX_HISTORY_DAYS: '0' },
    date: () => date,
    setDay (next, day) {
      date = next
      recorded = day
      replay.setDay(day as ReplayDay)
    },
    advance () {
      date = plusDays(date, 1)
      recorded = recorded === '2025-11-25' ? '2025-11-26' : '2025-11-25'
      replay.setDay(recorded)
    },
    async setFault (ids, fault) {
      for (const id of ids) {
        const s = servers.get(id)
        if (s === undefined) continue
        if (fault === undefined) faults.delete(id)
        else faults.set(id, fault)
        // connections held by the previous fault end with it
        for (const res of pending.get(id)?.keys() ?? []) res.destroy()
        if (fault?.transport === 'refused') await shut(id)
        else if (!s.server.listening) {
          s.server.listen(s.port, '127.0.0.1')
          const failed = once(s.server, 'error').then(([err]) => { throw err instanceof Error ? err : new Error(String(err)) })
          failed.catch(() => {})
          await bounded(Promise.race([once(s.server, 'listening'), failed]), 5000, `reopening the ${id} upstream`)
        }
      }
    },
    stats (id) {
      const st = { ...(stats.get(id) as SourceStats) }
      for (const started of pending.get(id)?.values() ?? []) st.longestMs = Math.max(st.longestMs, Date.now() - started)
      return st
    },
    resetStats () {
      // in place: the connection listeners hold these objects
      for (const st of stats.values()) Object.assign(st, { requests: 0, faulty: 0, maxOpen: st.open, longestMs: 0 })
    }
  }
}
