import net from 'node:net'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { WebSocket } from 'ws'
import type { ClientOptions } from 'ws'
import type { ServerMessage } from '../../src/domain/protocol.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** Listens on an ephemeral loopback port; returns `host:port`. */
export async function listen (app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

export interface Conn {
  ws: WebSocket
  /** Every message received so far, in order. */
  received: ServerMessage[]
  /** The next message not yet taken, skipping those of other types when `type` is given. */
  next: (type?: ServerMessage['type'], timeoutMs?: number) => Promise<ServerMessage>
  opened: Promise<void>
  closed: Promise<{ code: number, reason: string }>
}

/** A real `ws` client whose listeners are attached before the handshake, so nothing is missed. */
export function connect (t: Teardown, url: string, options: ClientOptions = {}): Conn {
  const ws = new WebSocket(url, options)
  t.teardown(() => ws.terminate())
  const received: ServerMessage[] = []
  let taken = 0
  let wake: (() => void) | undefined
  ws.on('message', (data) => {
    received.push(JSON.parse(String(data)) as ServerMessage)
    wake?.()
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  opened.catch(() => {})
  const closed = new Promise<{ code: number, reason: string }>((resolve) => {
    ws.once('close', (code, reason) => {
      resolve({ code, reason: String(reason) })
      wake?.()
    })
  })
  const next = async (type?: ServerMessage['type'], timeoutMs = 5000): Promise<ServerMessage> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      while (taken < received.length) {
        const m = received[taken++] as ServerMessage
        if (type === undefined || m.type === type) return m
      }
      if (ws.readyState === ws.CLOSED) throw new Error(`closed while waiting for ${type ?? 'a message'}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no ${type ?? 'message'} within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        wake = () => { clearTimeout(timer); resolve() }
      })
      wake = undefined
    }
  }
  return { ws, received, next, opened, closed }
}

/** The HTTP status of a refused upgrade. */
export async function refusal (t: Teardown, url: string, options: ClientOptions = {}): Promise<{ status: number, body: string }> {
  const ws = new WebSocket(url, options)
  t.teardown(() => ws.terminate())
  ws.on('error', () => {})
  return await new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('upgrade was accepted')))
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }))
    })
  })
}

/** The value of a counter or gauge with exactly these labels. */
export async function metric (app: FastifyInstance, name: 'clients' | 'messagesSent' | 'messagesDropped', labels: Record<string, string>): Promise<number> {
  const { values } = await app.metrics[name].get()
  return values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))
    .reduce((sum, v) => sum + v.value, 0)
}

export interface RawAnswer { status: number, headers: string, body: string }

/** Sends bytes as they are (no client-side URL or header clean-up) and reads until the server closes or the body is complete. */
export async function raw (port: number, request: string): Promise<RawAnswer> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let data = ''
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no complete answer to ${JSON.stringify(request.slice(0, 60))}`)) }, 5000)
    const done = (): void => {
      clearTimeout(timer)
      socket.destroy()
      const [head = '', ...rest] = data.split('\r\n\r\n')
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body: rest.join('\r\n\r\n') })
    }
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      data += chunk
      const [head, ...rest] = data.split('\r\n\r\n')
      const length = /content-length: (\d+)/i.exec(head ?? '')?.[1]
      if (length !== undefined && rest.join('\r\n\r\n').length >= Number(length)) done()
    })
    socket.on('end', done)
    socket.on('error', () => {})
    socket.write(request)
  })
}
