// The push protocol as the hub, the client and the widget share it. Zod-free on purpose: the widget
// bundle (6 KB gzip budget) and the dependency-free client import this module, and a type-only export
// of the message schemas' types costs them nothing.
export type {
  ClientMessage, ErrorMessage, HeartbeatMessage, ServerMessage, SnapshotMessage, UpdateMessage
} from './messages.js'

/** Close code of a server restart (IANA's WebSocket registry): the reason carries the retry hint. */
export const CLOSE_RESTART = 1012
/** Close code of "try again later" (1013), e.g. a client too slow to keep up: the reason carries the retry hint. */
export const CLOSE_TRY_AGAIN = 1013

/** The longest server hint honoured, so a garbled reason cannot park a client for days. */
export const MAX_HINT_MS = 10 * 60_000

/** `restart; retry in 12345 ms`: the close reason that carries a retry hint (at most 123 bytes). */
export function retryReason (what: string, ms: number): string {
  return `${what}; retry in ${ms} ms`
}

/** The retry hint of a close (see `retryReason`), sent only with 1012 and 1013; undefined otherwise. */
export function retryHint (code: number, reason: string): number | undefined {
  if (code !== CLOSE_RESTART && code !== CLOSE_TRY_AGAIN) return undefined
  const m = /retry in (\d{1,9}) ms/.exec(reason)
  return m === null ? undefined : Math.min(Number(m[1]), MAX_HINT_MS)
}
