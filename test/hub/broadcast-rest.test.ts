import { once } from 'node:events'
import net from 'node:net'
import t from 'tap'
import { WebSocket } from 'ws'
import { build } from '../support/build.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { until } from '../support/until.js'
import { listen } from './clients.js'

// a few thousand sockets: each costs the test two descriptors (client and server side)
const CLIENTS = 4000
const IN_FLIGHT = 100

t.test('REST is answered while a broadcast to thousands of WebSocket clients is still being written', async (t) => {
  const app = await build(t, { env: { WS_MAX_CONNECTIONS_PER_IP: String(CLIENTS), WS_MAX_CONNECTIONS: String(CLIENTS) } })
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const port = Number(host.split(':')[1])

  let updated = 0
  const sockets: WebSocket[] = []
  t.teardown(() => { for (const ws of sockets) ws.terminate() })
  const open = async (): Promise<void> => {
    const ws = new WebSocket(`ws://${host}/v1/ws`, { perMessageDeflate: false })
    sockets.push(ws)
    let first = true
    ws.on('message', () => {
      if (first) first = false
      else updated++
    })
    await once(ws, 'message')
  }
  let opened = 0
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (opened < CLIENTS) {
      opened++
      await open()
    }
  }))

  // the request is in the server's socket buffer before the publish starts the broadcast
  const rest = net.connect(port, '127.0.0.1')
  t.teardown(() => rest.destroy())
  await once(rest, 'connect')
  let answered: { status: string, updated: number } | undefined
  rest.setEncoding('latin1')
  rest.once('data', (head: string) => { answered = { status: head.slice(0, 12), updated } })
  rest.write(`GET /v1/rates HTTP/1.1\r\nhost: ${host}\r\n\r\n`)
  await app.store.publish(publishInput(fiveRates({ KZT: 510.12 })))

  const answer = await until(() => answered, { timeoutMs: 30_000, what: 'the REST answer' })
  t.equal(answer.status, 'HTTP/1.1 200', 'GET /v1/rates answered')
  t.ok(answer.updated < CLIENTS, `answered when ${answer.updated} of ${CLIENTS} clients had the update`)
  await until(() => updated === CLIENTS, { timeoutMs: 30_000, what: 'the update at every client' })
})
