import fp from 'fastify-plugin'
import type { Store } from '../store/store.js'

declare module 'fastify' {
  interface FastifyInstance { store: Store }
}

/** Exposes the engine to routes and hub; closes it with the server. */
export default fp<{ store: Store }>(async (fastify, { store }) => {
  fastify.decorate('store', store)
  fastify.addHook('onClose', async () => { await store.close() })
}, { name: 'store', fastify: '5.x' })
