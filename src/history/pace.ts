/**
 * Spaces the requests to each source: one starts at least `paceMs` after the previous one to that source
 * ended, so however long a request takes, two never start closer than `paceMs` apart.
 */
export interface Pacer {
  /** Resolves when the source may be asked again, or at once when `signal` aborts. */
  wait: (id: string, signal: AbortSignal) => Promise<void>
  /** A request to the source has ended, answered or not. */
  done: (id: string) => void
}

export function createPacer (paceMs: number, clock: () => number = Date.now): Pacer {
  const last = new Map<string, number>()
  return {
    async wait (id, signal) {
      const previous = last.get(id)
      const delay = previous === undefined ? 0 : previous + paceMs - clock()
      if (delay <= 0 || signal.aborted) return
      await new Promise<void>((resolve) => {
        const finish = (): void => {
          clearTimeout(timer)
          signal.removeEventListener('abort', finish)
          resolve()
        }
        const timer = setTimeout(finish, delay)
        signal.addEventListener('abort', finish, { once: true })
      })
    },
    done (id) { last.set(id, clock()) }
  }
}
