import { z } from 'zod'
import { CurrencySchema, MAX_SYMBOLS, RateSchema, SymbolListSchema, TimestampSchema } from './rate.js'

// The push protocol's messages as zod schemas: the hub validates with them and the AsyncAPI document is
// generated from them. Browser code takes only their types, through the zod-free ./protocol.js.

/** Server -> client: the whole (filtered) state, sent on connect and after `subscribe`. */
export const SnapshotMessageSchema = z.object({
  type: z.literal('snapshot'),
  seq: z.number().int().nonnegative(),
  rates: z.array(RateSchema)
})

/** Server -> client: only the rates that changed under the client's filter. */
export const UpdateMessageSchema = z.object({
  type: z.literal('update'),
  seq: z.number().int().nonnegative(),
  rates: z.array(RateSchema)
})

/** Server -> client: proof of life on a quiet feed; `idle` when no current data is flowing. */
export const HeartbeatMessageSchema = z.object({
  type: z.literal('heartbeat'),
  seq: z.number().int().nonnegative(),
  status: z.enum(['live', 'idle']),
  nextExpectedAt: TimestampSchema.nullable()
})

/** Server -> client: a client message was refused. */
export const ErrorMessageSchema = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string()
})

export const ServerMessageSchema = z.discriminatedUnion('type', [
  SnapshotMessageSchema, UpdateMessageSchema, HeartbeatMessageSchema, ErrorMessageSchema
])

/** Client -> server: replaces the symbol filter; answered with a snapshot of those symbols. */
export const SubscribeMessageSchema = z.object({
  type: z.literal('subscribe'),
  symbols: z.array(CurrencySchema).min(1).max(MAX_SYMBOLS)
}).strict()

export const ClientMessageSchema = z.discriminatedUnion('type', [SubscribeMessageSchema])

export type SnapshotMessage = z.infer<typeof SnapshotMessageSchema>
export type UpdateMessage = z.infer<typeof UpdateMessageSchema>
export type HeartbeatMessage = z.infer<typeof HeartbeatMessageSchema>
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>
export type ServerMessage = z.infer<typeof ServerMessageSchema>
export type ClientMessage = z.infer<typeof ClientMessageSchema>

/** Query of `/v1/ws` and `/v1/stream`: the symbol filter and the seq the client already holds. */
export const StreamQuerySchema = z.object({
  symbols: SymbolListSchema.optional(),
  since: z.string().trim().regex(/^\d{1,15}$/, 'expected the seq of the last message received, a whole number')
    .transform(Number).optional()
}).strict()
export type StreamQuery = z.infer<typeof StreamQuerySchema>
