import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { createRedisStore } from '../../src/store/redis.js'
import type { RedisStoreOptions } from '../../src/store/redis.js'
import type { Store } from '../../src/store/store.js'

export const LOCK_MS = 600
export const RENEW_MS = 150
/** The default command timeout of the engine for these settings: max(1000, lockMs - renewMs). */
export const COMMAND_TIMEOUT_MS = Math.max(1000, LOCK_MS - RENEW_MS)
let prefixes = 0

/** A key prefix no other test of this process uses. */
export function freshPrefix (): string {
  return `fx-test-${process.pid}-${++prefixes}:`
}

/** A Redis store with this file's lock settings, closed when the test ends. */
export async function open (t: Test, url: string, options: Partial<RedisStoreOptions> = {}): Promise<Store> {
  const store = await createRedisStore({ url, quote: 'USD', lockMs: LOCK_MS, renewMs: RENEW_MS, retryMaxMs: 100, ...options })
  t.teardown(() => store.close())
  return store
}

/** A plain client, to look at or tamper with the keys. */
export function raw (t: Test, url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  t.teardown(() => { client.disconnect() })
  return client
}

/** Two instances sharing one key space (`both` may name it); `a` is created first and so leads. */
export async function pair (t: Test, url: string, b: Partial<RedisStoreOptions> = {}, both: Partial<RedisStoreOptions> = {}): Promise<{ a: Store, b: Store, prefix: string }> {
  const prefix = both.keyPrefix ?? freshPrefix()
  const first = await open(t, url, { keyPrefix: prefix, name: 'a', ...both })
  const second = await open(t, url, { keyPrefix: prefix, name: 'b', ...both, ...b })
  return { a: first, b: second, prefix }
}
