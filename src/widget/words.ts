import { HOME_SOURCE } from '../domain/sources.js'

/**
 * The widget's words, `|`-separated in the order of `W`, then the home banks in the order of `BANKS`.
 * Plain strings rather than objects: they are most of the bundle, and gzip packs them best this way.
 */
const WORDS: Record<string, string> = {
  en: 'Exchange rates|Pause|up|down|unchanged|stale|offline|peg|consensus|National Bank of Kyrgyzstan|National Bank of Kazakhstan|Central Bank of Uzbekistan|National Bank of Tajikistan|Central Bank of Turkmenistan',
  ru: 'Курсы валют|Пауза|рост|снижение|без изменений|устарел|нет связи|привязка|консенсус|Нацбанк Кыргызстана|Нацбанк Казахстана|ЦБ Узбекистана|Нацбанк Таджикистана|ЦБ Туркменистана',
  kk: 'Валюта бағамдары|Кідірту|өсті|төмендеді|өзгеріссіз|ескірген|байланыс жоқ|бекітілген бағам|консенсус|Қырғызстан Ұлттық банкі|Қазақстан Ұлттық банкі|Өзбекстан Орталық банкі|Тәжікстан Ұлттық банкі|Түрікменстан Орталық банкі',
  ky: 'Валюта курстары|Тыныгуу|өстү|төмөндөдү|өзгөргөн жок|эскирген|байланыш жок|бекитилген курс|консенсус|Кыргызстандын Улуттук банкы|Казакстандын Улуттук банкы|Өзбекстандын Борбордук банкы|Тажикстандын Улуттук банкы|Түркмөнстандын Борбордук банкы',
  uz: 'Valyuta kurslari|Pauza|oʻsdi|tushdi|oʻzgarmadi|eskirgan|aloqa yoʻq|qatʼiy kurs|konsensus|Qirgʻiziston Milliy banki|Qozogʻiston Milliy banki|Oʻzbekiston Markaziy banki|Tojikiston Milliy banki|Turkmaniston Markaziy banki',
  tg: 'Қурби асъор|Таваққуф|боло рафт|паст шуд|бетағйир|кӯҳна|пайваст нест|қурби собит|консенсус|Бонки миллии Қирғизистон|Бонки миллии Қазоқистон|Бонки марказии Ӯзбекистон|Бонки миллии Тоҷикистон|Бонки марказии Туркманистон',
  tk: 'Walýuta hümmetleri|Arakesme|ýokarlandy|peseldi|üýtgemedi|könelen|aragatnaşyk ýok|berkidilen hümmet|ylalaşyk|Gyrgyzystanyň Milli banky|Gazagystanyň Milli banky|Özbegistanyň Merkezi banky|Täjigistanyň Milli banky|Türkmenistanyň Merkezi banky'
}

/** Indexes into a word list. */
export const enum W { rates, pause, up, down, unchanged, stale, offline, peg, consensus }

const BANKS = ['nbkr', 'nbk', 'cbu', 'nbt', 'cbt']

/** The widget's language for a tag (`ru-RU` -> `ru`): one of the seven, else English. */
export function languageOf (tag: string): string {
  const l = tag.slice(0, 2).toLowerCase()
  return l in WORDS ? l : 'en'
}

export function wordsOf (language: string): string[] {
  return (WORDS[language] as string).split('|')
}

/** The name of the central bank whose fixing is `base`'s official rate, in the words' language ('' if unknown). */
export function bankOf (base: string, words: readonly string[]): string {
  const i = BANKS.indexOf(HOME_SOURCE[base] ?? '')
  return i < 0 ? '' : words[9 + i] as string
}
