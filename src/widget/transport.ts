import type { SocketConstructor, SocketLike } from '../client/link.js'
import { load } from './parts.js'

/** How one page's connection to a service reaches it, kept across its sockets and shared with the fallbacks' part. */
export interface Route {
  /** 0 WebSocket, 1 SSE, 2 ETag polling of /v1/rates every `poll` ms. */
  turn: number
  poll: number
  /** The last ETag polling got: the service's names the seq and the symbol filter, so it never matches another filter. */
  etag: string
  /** Counts a socket that ended: after two in a row that brought nothing, the next transport, round again. */
  ended: (got: boolean) => void
}

/** A socket the client holds while the fallbacks' part loads; the part replaces `close` and `send`. */
export type Shell = SocketLike & { closed?: boolean }

/**
 * The client's socket over the best transport the page allows: WebSocket first, then SSE, then ETag
 * polling of /v1/rates, moving on after two connections in a row that brought nothing, and round again,
 * so a blocked WebSocket degrades and a restarted server is found. Reconnecting, backoff, `since` and the
 * heartbeat watchdog stay the client's: to it, every transport is a socket. The fallbacks are a part
 * loaded when first needed (src/widget/fallback.ts); a failed load is a connection that brought nothing.
 */
export function transport (poll: number): SocketConstructor {
  let fails = 0
  const route: Route = {
    turn: 0,
    poll,
    etag: '',
    ended (got) {
      fails = got ? 0 : fails + 1
      if (fails > 1) {
        route.turn = (route.turn + 1) % 3
        fails = 0
      }
    }
  }

  // called with `new`: a constructor that returns an object yields that object
  return function (url: string): SocketLike {
    if (route.turn > 0) {
      const shell = {
        send () {},
        // the client closes it again once told: one failed connection counts once
        close () {
          if (!shell.closed) route.ended(false)
          shell.closed = true
        }
      } as unknown as Shell
      load('fallback').then((part) => { if (!shell.closed) part.open(shell, url, route) }, () => {
        if (shell.closed) return
        shell.close()
        shell.onclose?.({ code: 1006, reason: '' })
      })
      return shell
    }
    const ws = new WebSocket(url)
    let got = false
    ws.addEventListener('message', () => { got = true })
    ws.addEventListener('close', () => route.ended(got))
    return ws
  } as unknown as SocketConstructor
}
