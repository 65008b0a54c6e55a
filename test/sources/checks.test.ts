import t from 'tap'
import { RatesError } from '../../src/domain/errors.js'
import { collectQuotes, quoteOf } from '../../src/sources/checks.js'
import { parseDecimal } from '../../src/sources/number.js'

const DATE = '2025-11-26'
const read = (code: string, raw: string): ReturnType<typeof quoteOf> => quoteOf(code, parseDecimal('x', `${code} rate`, raw), DATE)

t.test('a quote carries the parsed value, its error bound, the date and a daily cadence unless told', async (t) => {
  t.same(quoteOf('KZT', { value: 510, relErr: 1e-5 }, DATE), { base: 'KZT', inverse: 510, date: DATE, relErr: 1e-5, cadence: 'daily' })
  t.equal(quoteOf('TJS', { value: 9.2, relErr: 1e-5 }, DATE, 'weekly').cadence, 'weekly')
})

t.test('rows that do not parse or are out of range are skipped, the rest kept in order', async (t) => {
  const rows = [['KZT', '510,12'], ['KGS', 'n/a'], ['UZS', '0'], ['TJS', '1e12'], ['TMT', '3.5'], ['RUB', '-80']] as const
  t.same(collectQuotes(rows, read).map((q) => [q.base, q.inverse]), [['KZT', 510.12], ['TMT', 3.5]])
  t.same(collectQuotes([['KGS', 'n/a']], read), [], 'nothing usable is an empty list: emit decides what that means')
})

t.test('the first usable row of a code wins; an unusable one does not claim the code', async (t) => {
  const rows = [['KZT', 'bad'], ['KZT', '510'], ['KZT', '999']] as const
  t.same(collectQuotes(rows, read).map((q) => q.inverse), [510])
})

t.test('excluded codes are never read: USD by default, or the given list', async (t) => {
  const seen: string[] = []
  const spy = (code: string, raw: string): ReturnType<typeof quoteOf> => { seen.push(code); return read(code, raw) }
  const rows = [['USD', '1'], ['RUB', '80'], ['KZT', '510']] as const
  t.same(collectQuotes(rows, spy).map((q) => q.base), ['RUB', 'KZT'])
  t.same(seen.splice(0), ['RUB', 'KZT'])
  t.same(collectQuotes(rows, spy, ['USD', 'RUB']).map((q) => q.base), ['KZT'])
  t.same(seen, ['KZT'])
})

t.test('a row the reader declines (undefined) is skipped', async (t) => {
  t.same(collectQuotes([['KZT', 'skip'], ['TMT', '3.5']], (code, raw) => raw === 'skip' ? undefined : read(code, raw)).map((q) => q.base), ['TMT'])
})

t.test('any failure other than an unparsable row is the caller\'s', async (t) => {
  const dated = (): never => { throw new RatesError('RATES_SOURCE_DATE', 'x: value date in the future', 502) }
  t.throws(() => collectQuotes([['KZT', '510']], dated), { code: 'RATES_SOURCE_DATE' })
  t.throws(() => collectQuotes([['KZT', '510']], () => { throw new TypeError('bug') }), TypeError)
})
