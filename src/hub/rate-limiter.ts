/** A token bucket of `perSec` messages a second with a burst of `perSec`: bounds what one client may send. */
export function createRateLimiter (perSec: number, now: () => number = Date.now) {
  let tokens = perSec
  let last = now()
  return {
    take (): boolean {
      const t = now()
      tokens = Math.min(perSec, tokens + ((t - last) / 1000) * perSec)
      last = t
      if (tokens < 1) return false
      tokens -= 1
      return true
    }
  }
}
