import type * as Fallback from './fallback.js'

/** Replaced by scripts/build-widget.js: the file names of the parts loaded on demand. */
declare const PARTS: Record<keyof Parts, string>

interface Parts { fallback: typeof Fallback }

// captured while the script runs: afterwards document.currentScript is null
const script = document.currentScript as HTMLScriptElement | null

/** The folder the script was loaded from, which serves the packs and parts of its own build. */
export const ORIGIN = new URL('.', script?.src || location.href).href

const parts: Partial<Record<keyof Parts, Promise<unknown>>> = {}
let failed = 0

/**
 * A part of the widget that not every page needs (the fallback transports, which only a page whose
 * WebSocket fails uses), imported once per page from the script's folder. A failed import (offline) is
 * tried again on the next call, under a new query, since a browser may remember a failed module.
 */
export function load<K extends keyof Parts> (name: K): Promise<Parts[K]> {
  return (parts[name] ??= import(ORIGIN + PARTS[name] + (failed ? '?' + failed : '')).catch((err: unknown) => {
    delete parts[name]
    failed++
    throw err
  })) as Promise<Parts[K]>
}
