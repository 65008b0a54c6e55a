/** Spaces the requests to each source: a request starts at least `paceMs` after the previous one to it started. */
export interface Pacer {
  /** Resolves when the source may be asked again, or at once when `signal` aborts. */
  wait: (id: string, signal: AbortSignal) => Promise<void>
}

export function createPacer (paceMs: number, clock: () => number = Date.now): Pacer {
  const last = new Map<string, number>()
  return {
    async wait (id, signal) {
      const previous = last.get(id)
      const delay = previous === undefined ? 0 : previous + paceMs - clock()
      if (delay > 0 && !signal.aborted) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer)
            signal.removeEventListener('abort', done)
            resolve()
          }
          const timer = setTimeout(done, delay)
          signal.addEventListener('abort', done, { once: true })
        })
      }
      last.set(id, clock())
    }
  }
}
