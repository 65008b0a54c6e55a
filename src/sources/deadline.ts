import { RatesError } from '../domain/errors.js'
import type { SourceId } from '../domain/sources.js'

/**
 * Runs one fetch under its own deadline and the loop's stop signal, and settles by either even when
 * the fetch ignores its signal. The timer is a plain setTimeout held here, not AbortSignal.timeout inside
 * AbortSignal.any: on Node 20 such a combined signal stops firing once the collector has taken the
 * timeout signal, which nothing else references.
 */
export async function withDeadline<T> (id: SourceId, stop: AbortSignal, deadlineMs: number, fetch: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const ended = new Promise<never>((_resolve, reject) => {
    controller.signal.addEventListener('abort', () => { reject(controller.signal.reason) }, { once: true })
  })
  const onStop = (): void => { controller.abort(stop.reason) }
  const timer = setTimeout(() => {
    controller.abort(new RatesError('RATES_SOURCE_TIMEOUT', `${id}: poll exceeded its ${deadlineMs} ms deadline`, 504))
  }, deadlineMs)
  stop.addEventListener('abort', onStop, { once: true })
  try {
    const fetching = fetch(controller.signal)
    // an abandoned fetch may still reject later; that is no longer anyone's concern
    fetching.catch(() => {})
    return await Promise.race([fetching, ended])
  } finally {
    clearTimeout(timer)
    stop.removeEventListener('abort', onStop)
  }
}
