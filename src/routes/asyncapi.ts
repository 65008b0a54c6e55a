import { z } from 'zod'
import {
  ErrorMessageSchema, HeartbeatMessageSchema, SnapshotMessageSchema, SubscribeMessageSchema, UpdateMessageSchema
} from '../domain/messages.js'

const SCHEMAS = '#/components/schemas/'

type Json = Record<string, unknown>

/** Points the `$ref`s zod writes for named schemas (`#/definitions/Rate`) at the document's components. */
function rehome (node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rehome)
  if (typeof node !== 'object' || node === null) return node
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [
    k, k === '$ref' && typeof v === 'string' ? v.replace(/^#\/definitions\//, SCHEMAS) : rehome(v)
  ]))
}

/**
 * Each message's JSON Schema, with the named domain schemas it uses (Rate, SourceVote, …) moved to
 * `components.schemas` under the names /openapi.json gives them.
 */
function convert<K extends string> (messages: Record<K, z.ZodType>): { payloads: Record<K, Json>, schemas: Json } {
  const schemas: Json = {}
  const payloads: Partial<Record<K, Json>> = {}
  for (const name of Object.keys(messages) as K[]) {
    const json = z.toJSONSchema(messages[name], { target: 'draft-7', io: 'output', unrepresentable: 'any' }) as Json
    const { $schema: _dialect, definitions, ...payload } = json
    Object.assign(schemas, definitions)
    payloads[name] = rehome(payload) as Json
  }
  return { payloads: payloads as Record<K, Json>, schemas: rehome(schemas) as Json }
}

/** The AsyncAPI 3 document of /v1/ws and /v1/stream, generated from the zod schemas the hub validates with. */
export function asyncApiDocument (): unknown {
  const { payloads, schemas } = convert({
    snapshot: SnapshotMessageSchema,
    update: UpdateMessageSchema,
    heartbeat: HeartbeatMessageSchema,
    error: ErrorMessageSchema,
    subscribe: SubscribeMessageSchema
  })
  const messages = {
    snapshot: { name: 'snapshot', summary: 'The whole state under the client filter: on connect and after subscribe', payload: payloads.snapshot },
    update: { name: 'update', summary: 'Only the rates that changed, when seq moves', payload: payloads.update },
    heartbeat: { name: 'heartbeat', summary: 'Every 25 s: live or idle, and when the next fixing is due', payload: payloads.heartbeat },
    error: { name: 'error', summary: 'A client message was refused', payload: payloads.error },
    subscribe: { name: 'subscribe', summary: 'Replaces the symbol filter; answered with a snapshot', payload: payloads.subscribe }
  }
  const ref = (name: keyof typeof messages): { $ref: string } => ({ $ref: `#/components/messages/${name}` })
  const inChannel = (channel: string, names: string[]): Array<{ $ref: string }> => names.map((m) => ({ $ref: `#/channels/${channel}/messages/${m}` }))
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'fx-ticker push protocol',
      version: '1',
      description: 'State transfer, not events: a (re)connecting client gets a snapshot, so nothing can be missed. ' +
        '`seq` is the REST ETag, the SSE event id and the WebSocket `since`. The HTTP side of both channels ' +
        '(query parameters, refusals) is in /openapi.json, under the same schema names.',
      license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' }
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
      receiveWs: { action: 'send', channel: { $ref: '#/channels/ws' }, summary: 'What the service sends on a WebSocket', messages: inChannel('ws', ['snapshot', 'update', 'heartbeat', 'error']) },
      subscribeWs: { action: 'receive', channel: { $ref: '#/channels/ws' }, summary: 'What the service accepts on a WebSocket', messages: inChannel('ws', ['subscribe']) },
      receiveStream: { action: 'send', channel: { $ref: '#/channels/stream' }, summary: 'What the service sends on an event stream', messages: inChannel('stream', ['snapshot', 'update', 'heartbeat']) }
    },
    components: { schemas, messages }
  }
}
