// The transports behind a blocked WebSocket, a part of their own (src/widget/parts.ts): imported only
// when a page falls back to them.
import type { Route, Shell } from './transport.js'

// a fallback transport is given up for another WebSocket attempt after this long
const UPGRADE_MS = 300_000

/**
 * Makes `socket` (the one the client holds) a connection over SSE (/v1/stream) or, on the route's
 * polling turn, ETag polling of /v1/rates, which knows no `since`: a 304 passes an empty message, which
 * only feeds the client's watchdog. Neither carries a subscribe message: the client connects again with
 * the new symbols.
 */
export function open (socket: Shell, url: string, route: Route): void {
  const sse = route.turn === 1
  const u = new URL(url.replace(/^ws/, 'http').replace(/ws(?=\?|$)/, sse ? 'stream' : 'rates'))
  let got = false
  let upgrade: ReturnType<typeof setTimeout> | undefined
  let stop = (): void => {}
  const end = (): void => {
    socket.close()
    socket.onclose?.({ code: 1006, reason: '' })
  }
  const receive = (data: string): void => {
    if (!got) {
      socket.onopen?.(null)
      upgrade = setTimeout(() => {
        route.turn = 0
        end()
      }, UPGRADE_MS)
      got = true
      route.ended(true)
    }
    socket.onmessage?.({ data })
  }
  socket.send = end
  socket.close = () => {
    stop()
    clearTimeout(upgrade)
    if (!socket.closed) route.ended(got)
    socket.closed = true
  }
  if (sse) {
    const es = new EventSource(u)
    for (const type of ['snapshot', 'update', 'heartbeat']) es.addEventListener(type, (e) => receive((e as MessageEvent<string>).data))
    es.onerror = end
    stop = () => es.close()
    return
  }
  u.searchParams.delete('since')
  const ac = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  stop = () => {
    ac.abort()
    clearTimeout(timer)
  }
  const poll = (): void => {
    fetch(u, { headers: { 'if-none-match': route.etag }, cache: 'no-store', signal: ac.signal })
      .then(async (res) => {
        let data = ''
        if (res.status === 200) {
          data = JSON.stringify({ type: 'snapshot', ...await res.json() })
          route.etag = res.headers.get('etag') ?? ''
        } else if (res.status !== 304) throw new Error()
        receive(data)
        timer = setTimeout(poll, route.poll)
      })
      .catch(() => { if (!ac.signal.aborted) end() })
  }
  poll()
}
