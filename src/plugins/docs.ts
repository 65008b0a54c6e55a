import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'

/** /openapi.json, generated from the same zod schemas that validate requests and responses. */
export default fp(async (fastify) => {
  await fastify.register(swagger, {
    openapi: {
      info: {
        title: 'fx-ticker',
        description: 'Official exchange rates of KGS, KZT, TJS, UZS and TMT against USD, reconciled across central banks',
        version: '1'
      }
    },
    transform: jsonSchemaTransform
  })
  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
}, { name: 'docs', fastify: '5.x' })
