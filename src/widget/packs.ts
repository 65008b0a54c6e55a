/**
 * The widget's words in its other languages, `|`-separated in the order of the English in words.ts. Not
 * part of the bundle: scripts/build-widget.js writes each as a small JSON file the widget fetches only on a
 * page in that language (`/widget.i18n.<lang>.<hash>.json`), so English readers do not download them.
 */
export const PACKS: Readonly<Record<string, string>> = {
  ru: 'Курсы валют|Пауза|рост|снижение|без изменений|устарел|нет связи|привязка|консенсус|диапазон за # дн.|Нацбанк Кыргызстана|Нацбанк Казахстана|ЦБ Узбекистана|Нацбанк Таджикистана|ЦБ Туркменистана',
  kk: 'Валюта бағамдары|Кідірту|өсті|төмендеді|өзгеріссіз|ескірген|байланыс жоқ|бекітілген бағам|консенсус|# күндік ауқым|Қырғызстан Ұлттық банкі|Қазақстан Ұлттық банкі|Өзбекстан Орталық банкі|Тәжікстан Ұлттық банкі|Түрікменстан Орталық банкі',
  ky: 'Валюта курстары|Тыныгуу|өстү|төмөндөдү|өзгөргөн жок|эскирген|байланыш жок|бекитилген курс|консенсус|# күндүк диапазон|Кыргызстандын Улуттук банкы|Казакстандын Улуттук банкы|Өзбекстандын Борбордук банкы|Тажикстандын Улуттук банкы|Түркмөнстандын Борбордук банкы',
  uz: 'Valyuta kurslari|Pauza|oʻsdi|tushdi|oʻzgarmadi|eskirgan|aloqa yoʻq|qatʼiy kurs|konsensus|# kunlik oraliq|Qirgʻiziston Milliy banki|Qozogʻiston Milliy banki|Oʻzbekiston Markaziy banki|Tojikiston Milliy banki|Turkmaniston Markaziy banki',
  tg: 'Қурби асъор|Таваққуф|боло рафт|паст шуд|бетағйир|кӯҳна|пайваст нест|қурби собит|консенсус|доираи # рӯз|Бонки миллии Қирғизистон|Бонки миллии Қазоқистон|Бонки марказии Ӯзбекистон|Бонки миллии Тоҷикистон|Бонки марказии Туркманистон',
  tk: 'Walýuta hümmetleri|Arakesme|ýokarlandy|peseldi|üýtgemedi|könelen|aragatnaşyk ýok|berkidilen hümmet|ylalaşyk|# günlük aralyk|Gyrgyzystanyň Milli banky|Gazagystanyň Milli banky|Özbegistanyň Merkezi banky|Täjigistanyň Milli banky|Türkmenistanyň Merkezi banky'
}
