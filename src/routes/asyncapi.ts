import type { FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import {
  ErrorMessageSchema, HeartbeatMessageSchema, SnapshotMessageSchema, SubscribeMessageSchema, UpdateMessageSchema
} from '../hub/protocol.js'

const json = (schema: z.ZodType): unknown => z.toJSONSchema(schema, { target: 'draft-7', io: 'output', unrepresentable: 'any' })

/** The AsyncAPI 3 document of /v1/ws and /v1/stream, generated from the zod schemas the hub validates with. */
export function asyncApiDocument (): unknown {
  const messages = {
    snapshot: { name: 'snapshot', summary: 'The whole state under the client filter: on connect and after subscribe', payload: json(SnapshotMessageSchema) },
    update: { name: 'update', summary: 'Only the rates that changed, when seq moves', payload: json(UpdateMessageSchema) },
    heartbeat: { name: 'heartbeat', summary: 'Every 25 s: live or idle, and when the next fixing is due', payload: json(HeartbeatMessageSchema) },
    error: { name: 'error', summary: 'A client message was refused', payload: json(ErrorMessageSchema) },
    subscribe: { name: 'subscribe', summary: 'Replaces the symbol filter; answered with a snapshot', payload: json(SubscribeMessageSchema) }
  }
  const ref = (name: keyof typeof messages): { $ref: string } => ({ $ref: `#/components/messages/${name}` })
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'fx-ticker push protocol',
      version: '1',
      description: 'State transfer, not events: a (re)connecting client gets a snapshot, so nothing can be missed. ' +
        '`seq` is the REST ETag, the SSE event id and the WebSocket `since`.'
    },
    channels: {
      ws: {
        address: '/v1/ws',
        description: 'WebSocket, JSON text frames. Query: symbols=KZT,UZS (optional), since=<seq> (optional).',
        messages: { snapshot: ref('snapshot'), update: ref('update'), heartbeat: ref('heartbeat'), error: ref('error'), subscribe: ref('subscribe') }
      },
      stream: {
        address: '/v1/stream',
        description: 'Server-Sent Events: event = type, id = seq, data = the JSON message; Last-Event-ID resumes like since.',
        messages: { snapshot: ref('snapshot'), update: ref('update'), heartbeat: ref('heartbeat') }
      }
    },
    operations: {
      receiveWs: { action: 'send', channel: { $ref: '#/channels/ws' }, messages: [ref('snapshot'), ref('update'), ref('heartbeat'), ref('error')].map((m) => ({ $ref: `#/channels/ws/messages/${m.$ref.split('/').pop() ?? ''}` })) },
      subscribeWs: { action: 'receive', channel: { $ref: '#/channels/ws' }, messages: [{ $ref: '#/channels/ws/messages/subscribe' }] },
      receiveStream: { action: 'send', channel: { $ref: '#/channels/stream' }, messages: ['snapshot', 'update', 'heartbeat'].map((m) => ({ $ref: `#/channels/stream/messages/${m}` })) }
    },
    components: { messages }
  }
}

/** GET /asyncapi.json */
const asyncApiRoutes: FastifyPluginAsync = async (fastify) => {
  const doc = asyncApiDocument()
  fastify.get('/asyncapi.json', { schema: { hide: true } }, async () => doc)
}

export default asyncApiRoutes
