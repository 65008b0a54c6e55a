import fp from 'fastify-plugin'
import type { ChangeFeed, EngineHealth, SnapshotState, Store } from '../store/store.js'

/** What routes, hub and metrics see of the engine: its state, its changes and its readiness, not its leadership or close. */
export interface StoreView extends SnapshotState, ChangeFeed {
  health: () => EngineHealth
}

declare module 'fastify' {
  interface FastifyInstance { store: StoreView }
}

/** Exposes the engine to routes and hub; closes it with the server. */
export default fp<{ store: Store }>(async (fastify, { store }) => {
  fastify.decorate<StoreView>('store', store)
  fastify.addHook('onClose', async () => { await store.close() })
}, { name: 'store', fastify: '5.x' })
