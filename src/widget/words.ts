import { HOME_SOURCE } from '../domain/sources.js'

/** Replaced by scripts/build-widget.js: the packs' content hash and the languages served as packs. */
declare const I18N: [hash: string, languages: string[]]

/**
 * The built-in English words, `|`-separated in the order of `W`, then the home banks in the order of
 * HOME_SOURCE; `#` in a word stands for a number. Other languages are the same list in a pack (packs.ts) fetched on demand.
 */
const EN = 'Exchange rates|Pause|up|down|unchanged|stale|offline|peg|consensus|#-day range|National Bank of Kyrgyzstan|National Bank of Kazakhstan|Central Bank of Uzbekistan|National Bank of Tajikistan|Central Bank of Turkmenistan'.split('|')

/** Indexes into a word list. */
export const enum W { rates, pause, up, down, unchanged, stale, offline, peg, consensus, range, banks }

// one request per language and page, whatever the number of tickers
const packs: Record<string, Promise<string[]>> = {}

/** The widget's language for a tag (`ru-RU` -> `ru`): one with a pack, else English. */
export function languageOf (tag: string): string {
  const l = tag.slice(0, 2).toLowerCase()
  return I18N[1].includes(l) ? l : 'en'
}

/**
 * English at once, and `language`'s words to `then` once its pack arrives from `origin` (the folder the
 * script came from, which serves the packs of its own build); a missing or broken pack leaves English.
 */
export function wordsOf (language: string, origin: string, then: (words: string[]) => void): string[] {
  if (language !== 'en') {
    (packs[language] ??= fetch(`${origin}widget.i18n.${language}.${I18N[0]}.json`).then((r) => r.json()))
      .then((words: string[]) => { if (words.length === EN.length) then(words) }, () => {})
  }
  return EN
}

/** The name of the central bank whose fixing is `base`'s official rate, in the words' language ('' if unknown). */
export function bankOf (base: string, words: readonly string[]): string {
  const i = Object.keys(HOME_SOURCE).indexOf(base)
  return i < 0 ? '' : words[W.banks + i] as string
}
