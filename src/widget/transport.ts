import type { SocketConstructor, SocketLike } from '../client/link.js'

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
  // the service's ETag names the seq and the symbol filter, so a kept tag never matches another filter
  let etag = ''

  // called with `new`: a constructor that returns an object yields that object
  return function (url: string): SocketLike {
    let got = false
    let done = false
    let upgrade: ReturnType<typeof setTimeout> | undefined
    const heard = (): void => {
      if (!got && mode > 0) {
        upgrade = setTimeout(() => {
          mode = 0
          end()
        }, UPGRADE_MS)
      }
      got = true
      fails = 0
    }
    // a fallback that ends closes itself, then the client closes it again: one connection counts once
    const ended = (): void => {
      if (done) return
      done = true
      clearTimeout(upgrade)
      if (!got && ++fails > 1) {
        mode = (mode + 1) % 3
        fails = 0
      }
    }
    if (mode === 0) {
      const ws = new WebSocket(url)
      ws.addEventListener('message', heard)
      ws.addEventListener('close', ended)
      return ws
    }

    const u = new URL(url.replace(/^ws/, 'http').replace(/ws(?=\?|$)/, mode === 1 ? 'stream' : 'rates'))
    let stop = (): void => {}
    // the client sets its handlers as soon as it has the socket
    const s = {
      // neither transport carries a subscribe message: the client connects again with the new symbols
      send: () => end(),
      close () {
        stop()
        ended()
      }
    } as unknown as SocketLike
    const receive = (data: unknown): void => {
      if (!got) s.onopen?.(null)
      heard()
      s.onmessage?.({ data })
    }
    const end = (): void => {
      s.close()
      s.onclose?.({ code: 1006, reason: '' })
    }
    const sse = (): void => {
      const es = new EventSource(u)
      for (const type of ['snapshot', 'update', 'heartbeat']) es.addEventListener(type, (e) => receive((e as MessageEvent).data))
      es.onerror = end
      stop = () => es.close()
    }
    // /v1/rates knows no `since`; a 304 passes an empty message, which only feeds the client's watchdog
    const poll = (): void => {
      u.searchParams.delete('since')
      const ac = new AbortController()
      let timer: ReturnType<typeof setTimeout> | undefined
      stop = () => {
        ac.abort()
        clearTimeout(timer)
      }
      fetch(u, { headers: { 'if-none-match': etag }, cache: 'no-store', signal: ac.signal })
        .then(async (res) => {
          let data = ''
          if (res.status === 200) {
            data = JSON.stringify({ type: 'snapshot', ...await res.json() })
            etag = res.headers.get('etag') ?? ''
          } else if (res.status !== 304) throw new Error()
          receive(data)
          timer = setTimeout(poll, pollMs)
        })
        .catch(() => { if (!ac.signal.aborted) end() })
    }
    if (mode === 1) sse()
    else poll()
    return s
  } as unknown as SocketConstructor
}
