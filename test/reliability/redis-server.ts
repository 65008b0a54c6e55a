import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createConnection } from 'node:net'
import { bounded, waitFor } from './scope.js'
import type { Scope } from './scope.js'
import { freePort } from '../support/ports.js'

/** A real redis-server on a free loopback port that can be killed, restarted, paused and resumed. */
export interface Redis {
  url: string
  /** SIGKILL: an outage that loses the data (nothing is saved). */
  kill: () => Promise<void>
  start: () => Promise<void>
  /** SIGSTOP / SIGCONT: a Redis that hangs without closing its connections. */
  pause: () => void
  resume: () => void
}

async function ping (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (c) => done(c.toString().startsWith('+PONG')))
  })
}

export async function startRedisServer (scope: Scope): Promise<Redis> {
  const port = await freePort()
  const dir = scope.tempDir('redis')
  let child: ChildProcess | undefined
  const kill = async (): Promise<void> => {
    const proc = child
    child = undefined
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = once(proc, 'exit')
    proc.kill('SIGKILL')
    await bounded(exited, 5000, 'redis-server exit')
  }
  const start = async (): Promise<void> => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
    child = proc
    const failed = new Promise<boolean>((resolve) => proc.once('error', () => resolve(false)))
    const up = await waitFor(async () => await Promise.race([ping(port), failed]) || (proc.exitCode !== null ? 'exited' : false), 5000, 20)
    if (up !== true) throw new Error(`redis-server did not start on port ${port} (is it installed? apt-get install redis-server)`)
  }
  scope.teardown(kill)
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    pause: () => { child?.kill('SIGSTOP') },
    resume: () => { child?.kill('SIGCONT') }
  }
}
