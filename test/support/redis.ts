import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from './until.js'
import { freePort } from './ports.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface RedisServer {
  url: string
  port: number
  /** Kills the server (SIGKILL: an outage, not a clean shutdown); with `keepData` it saves first. */
  stop: (options?: { keepData?: boolean }) => Promise<void>
  /** Starts it again on the same port; data survives only a `stop({ keepData: true })`. */
  start: () => Promise<void>
  /** SIGSTOP: the server hangs with its connections open, as a stalled host or a long fork would. */
  pause: () => void
  /** SIGCONT after `pause`. */
  resume: () => void
}

/** A throwaway redis-server on a free loopback port, killed when the test ends. A missing binary fails the test. */
export async function startRedis (t: Teardown): Promise<RedisServer> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'fx-redis-'))
  let child: ChildProcess | undefined

  const start = async (): Promise<void> => {
    if (child !== undefined) throw new Error('redis-server is already running')
    const proc = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--dbfilename', 'dump.rdb'
    ], { stdio: ['ignore', 'ignore', 'pipe'] })
    child = proc
    const failed = once(proc, 'error').then(([err]) => {
      throw new Error(`could not start redis-server (is it installed? apt-get install redis-server): ${(err as Error).message}`)
    })
    failed.catch(() => {})
    await until(async () => {
      if (await Promise.race([ping(port), failed])) return true
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode} on port ${port}`)
      return false
    }, { timeoutMs: 5000, what: `redis-server to answer PING on port ${port}` })
  }

  const stop = async ({ keepData = false } = {}): Promise<void> => {
    const proc = child
    if (proc === undefined) return
    if (keepData) await command(port, 'SAVE')
    child = undefined
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = once(proc, 'exit')
      proc.kill('SIGKILL')
      await exited
    }
  }

  const signal = (name: NodeJS.Signals): void => {
    if (child === undefined || !child.kill(name)) throw new Error(`redis-server is not running (${name})`)
  }

  t.teardown(async () => {
    await stop()
    await rm(dir, { recursive: true, force: true })
  })
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    pause: () => { signal('SIGSTOP') },
    resume: () => { signal('SIGCONT') }
  }
}

/** Sends one inline command and resolves with the first reply line, or '' when nothing answers. */
function command (port: number, line: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    let reply = ''
    const done = (value: string): void => { socket.destroy(); resolve(value) }
    socket.setTimeout(2000, () => done(''))
    socket.on('error', () => done(''))
    socket.on('connect', () => socket.write(`${line}\r\n`))
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8')
      if (reply.includes('\r\n')) done(reply.split('\r\n')[0] ?? '')
    })
  })
}

async function ping (port: number): Promise<boolean> {
  return (await command(port, 'PING')) === '+PONG'
}
