import type { ChangeFeed, SnapshotListener } from './store.js'

/** The feed an engine emits into, in order; one throwing listener does not starve the others. */
export function createChangeFeed (): ChangeFeed & { emit: SnapshotListener } {
  const listeners = new Set<SnapshotListener>()
  return {
    subscribe (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    emit (snapshot, previous) {
      for (const listener of listeners) {
        try { listener(snapshot, previous) } catch { /* a listener's failure is its own; the publish stands */ }
      }
    }
  }
}
