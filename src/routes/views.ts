import type { z } from 'zod'
import { RatesError } from '../domain/errors.js'
import { RateSchema, SnapshotSchema } from '../domain/rate.js'
import type { Snapshot } from '../domain/rate.js'

/** A response built once: its ETag and the JSON the route's schema produces. */
export interface View { etag: string, body: string }

export interface ViewsOptions {
  snapshot: () => Snapshot | undefined
  /** Bodies kept per snapshot (filters and bases); the oldest goes first. */
  maxEntries?: number
}

export interface Views {
  /** The snapshot, or its rates of `symbols`; undefined before the first snapshot. */
  rates: (symbols: readonly string[] | undefined) => View | undefined
  /** The rate of `base`; undefined before the first snapshot, null when the snapshot has no rate of it. */
  rate: (base: string) => View | undefined | null
}

/**
 * The snapshot bodies, serialised once per snapshot (and filter or base), never per request.
 * Each is checked against the schema the route documents as it is built, and its bytes are the ones that
 * schema's serializer would produce: the store already refused anything invalid, so a failure here is a fault.
 */
export function createViews ({ snapshot, maxEntries = 64 }: ViewsOptions): Views {
  let built: Snapshot | undefined
  let full: View | undefined
  // keyed by the symbols as the client listed them: the normalised key is only worked out on a miss
  const filtered = new Map<string, View>()
  const rates = new Map<string, View | null>()

  /** The current snapshot, dropping the bodies of the previous one when it changed. */
  const current = (): Snapshot | undefined => {
    const s = snapshot()
    if (s !== built) {
      built = s
      full = undefined
      filtered.clear()
      rates.clear()
    }
    return s
  }

  return {
    rates (symbols) {
      const s = current()
      if (s === undefined) return undefined
      if (symbols === undefined) return (full ??= { etag: `"${s.seq}"`, body: serialise(SnapshotSchema, s) })
      return remember(filtered, symbols.join(','), maxEntries, () => {
        const wanted = new Set(symbols)
        const key = [...wanted].sort().join('.')
        const etag = `"${s.seq}-${key}"`
        for (const v of filtered.values()) if (v.etag === etag) return v
        return { etag, body: serialise(SnapshotSchema, { ...s, rates: s.rates.filter((r) => wanted.has(r.base)) }) }
      })
    },
    rate (base) {
      const s = current()
      if (s === undefined) return undefined
      return remember(rates, base, maxEntries, () => {
        const rate = s.rates.find((r) => r.base === base)
        return rate === undefined ? null : { etag: `"${s.seq}-${base}"`, body: serialise(RateSchema, rate) }
      })
    }
  }
}

/** What fastify-type-provider-zod's serializer sends for `value`: the schema's encoding, as JSON. */
export function serialise (schema: z.ZodType, value: unknown): string {
  const encoded = schema.safeEncode(value)
  if (!encoded.success) throw new RatesError('RATES_INTERNAL', 'a stored value does not match its response schema', 500, { cause: encoded.error })
  return JSON.stringify(encoded.data)
}

/** The cached value of `key`, built on a miss; the oldest entry makes room once `max` are held. */
function remember<K, V> (cache: Map<K, V>, key: K, max: number, build: () => V): V {
  if (cache.has(key)) return cache.get(key) as V
  const value = build()
  if (cache.size >= max) cache.delete(cache.keys().next().value as K)
  cache.set(key, value)
  return value
}
