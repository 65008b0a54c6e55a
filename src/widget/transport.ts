import type { SocketConstructor, SocketLike } from '../client/client.js'

// a fallback transport is given up for another WebSocket attempt after this long
const UPGRADE_MS = 300_000

/**
 * The client's socket over the best transport the page allows: WebSocket first, then SSE, then ETag
 * polling of /v1/rates every `pollMs`, moving on after two connections in a row that brought nothing, and
 * round again, so a blocked WebSocket degrades and a restarted server is found. Reconnecting, backoff,
 * `since` and the heartbeat watchdog stay the client's: to it, every transport is a socket.
 */
export function transport (pollMs: number): SocketConstructor {
  let mode = 0
  let fails = 0
  let etag = ''
  let tagged = ''

  // called with `new`: a constructor that returns an object yields that object
  return function (url: string): SocketLike {
    const u = new URL(url)
    const q = u.searchParams
    let got = false
    let upgrade: ReturnType<typeof setTimeout> | undefined
    let stop = (): void => {}
    const s: SocketLike = {
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
      send () {},
      close () {
        clearTimeout(upgrade)
        stop()
      }
    }
    const receive = (data: unknown): void => {
      if (!got && mode > 0) {
        upgrade = setTimeout(() => {
          mode = 0
          end(1000)
        }, UPGRADE_MS)
      }
      got = true
      fails = 0
      s.onmessage?.({ data })
    }
    const end = (code = 1006, reason = ''): void => {
      s.close()
      if (!got && ++fails > 1) {
        mode = (mode + 1) % 3
        fails = 0
      }
      s.onclose?.({ code, reason })
    }

    if (mode === 0) {
      const ws = new WebSocket(url)
      ws.onopen = () => s.onopen?.(null)
      ws.onmessage = (e) => receive(e.data)
      ws.onclose = (e) => end(e.code, e.reason)
      s.send = (data) => ws.send(data)
      stop = () => {
        ws.onclose = ws.onmessage = null
        ws.close()
      }
      return s
    }

    u.protocol = u.protocol.replace('ws', 'http')
    u.pathname = u.pathname.replace(/ws$/, mode === 1 ? 'stream' : 'rates')
    const sse = (): void => {
      const es = new EventSource(u)
      es.onopen = () => s.onopen?.(null)
      for (const type of ['snapshot', 'update', 'heartbeat']) es.addEventListener(type, (e) => receive((e as MessageEvent).data))
      es.onerror = () => end()
      stop = () => es.close()
    }
    // /v1/rates knows no `since`; a 304 passes an empty message, which only feeds the client's watchdog
    const poll = (): void => {
      q.delete('since')
      const ac = new AbortController()
      let timer: ReturnType<typeof setTimeout> | undefined
      stop = () => {
        ac.abort()
        clearTimeout(timer)
      }
      fetch(u, { headers: etag === '' || tagged !== u.href ? {} : { 'if-none-match': etag }, cache: 'no-store', signal: ac.signal })
        .then(async (res) => {
          let data = ''
          if (res.status === 200) {
            data = JSON.stringify({ type: 'snapshot', ...await res.json() })
            etag = res.headers.get('etag') ?? ''
            tagged = u.href
          } else if (res.status !== 304) throw new Error(String(res.status))
          if (!got) s.onopen?.(null)
          receive(data)
          timer = setTimeout(poll, pollMs)
        })
        .catch(() => { if (!ac.signal.aborted) end() })
    }
    const open = mode === 1 ? sse : poll
    // neither can carry a subscribe message: start over with the new symbols, which brings their snapshot
    s.send = (data) => {
      q.set('symbols', (JSON.parse(data) as { symbols: string[] }).symbols.join(','))
      q.delete('since')
      stop()
      open()
    }
    open()
    return s
  } as unknown as SocketConstructor
}
