import { createEmbeddedStore } from './embedded.js'
import type { Store, StoreLog } from './store.js'

/** The part of Config the engines read (src/store/ does not import config.ts; a Config fits as is). */
export interface StoreConfig {
  quote: string
  stateDir: string
  redisUrl: string | undefined
  leaderLockMs: number
  leaderRenewMs: number
  historyDays: number
}

/** The one engine switch: REDIS_URL set → Redis, else the embedded engine under FX_STATE_DIR. */
export async function createStore (config: StoreConfig, log: StoreLog): Promise<Store> {
  if (config.redisUrl !== undefined) {
    // loaded only when used: an embedded instance starts without the Redis client's modules
    const { createRedisStore } = await import('./redis.js')
    return await createRedisStore({
      url: config.redisUrl,
      quote: config.quote,
      lockMs: config.leaderLockMs,
      renewMs: config.leaderRenewMs,
      historyDays: config.historyDays,
      log
    })
  }
  return await createEmbeddedStore({ dir: config.stateDir, quote: config.quote, historyDays: config.historyDays, log })
}
