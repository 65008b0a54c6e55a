import type { Duplex } from 'node:stream'
import * as ws from 'ws'
import type { WebSocket } from 'ws'

// A broadcast frames each message once and hands the same bytes to every socket. `ws` would build the
// frame header again per socket and write header and payload separately; a server frame is never masked,
// so its bytes do not depend on the socket and one buffer serves all of them.

interface SenderStatic {
  frame: (data: Buffer, options: { fin: boolean, opcode: number, mask: boolean, readOnly: boolean, rsv1: boolean }) => Buffer[]
}

/** The parts of a `ws` socket that decide whether a frame may bypass its sender (ws 8: lib/websocket.js, lib/sender.js). */
interface SocketInternals {
  _socket?: Duplex | null
  _sender?: { _state: number, _queue: unknown[], _firstFragment: boolean } | null
  _extensions?: Record<string, unknown>
}

const { Sender } = ws as unknown as { Sender: SenderStatic }
const SENDER_IDLE = 0

/** One unmasked, final text frame: header and payload in one buffer, as every server socket sends it. */
export function textFrame (payload: Buffer): Buffer {
  const parts = Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false })
  return parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts)
}

/**
 * Writes a frame built by `textFrame` to an open socket. The bytes go straight to the TCP stream only
 * when `ws` has nothing of its own in flight: its sender idle with an empty queue (nothing compressing
 * or waiting) and no fragmented message begun, and no compression negotiated (the only extension `ws` knows, which would change the frame).
 * Otherwise `ws` sends the payload itself, after what it has queued. Either way the bytes count in the
 * socket's `bufferedAmount`, so the slow-consumer limit sees them.
 */
export function writeFrame (socket: WebSocket, frame: Buffer, payload: Buffer): void {
  const s = socket as unknown as SocketInternals
  const sender = s._sender
  const stream = s._socket
  if (stream != null && sender != null && sender._state === SENDER_IDLE && sender._queue.length === 0 &&
      sender._firstFragment && s._extensions?.['permessage-deflate'] === undefined) {
    stream.write(frame)
    return
  }
  socket.send(payload, { binary: false })
}
