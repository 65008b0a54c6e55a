import t from 'tap'
import { isRatesError } from '../../src/domain/errors.js'
import type { Quote } from '../../src/domain/rate.js'
import { ADAPTERS, payload, redate } from './adapters.js'
import { assertRejects } from '../support/expected.js'
import { NOW } from '../support/fetch-context.js'
import { byBase } from '../support/quotes.js'

const CASES = ADAPTERS.flatMap((adapter) => adapter.fixtures.map((file) => ({ adapter, file, text: payload(file) })))

t.test('every adapter refuses a value date after tomorrow in its zone, at once', async (t) => {
  for (const { adapter, file, text } of CASES) {
    for (const iso of ['9999-12-31', '9999-12-30', '2025-12-07', '2025-11-28']) {
      const started = performance.now()
      assertRejects(t, () => adapter.parse(redate(text, iso), NOW), 'RATES_SOURCE_DATE', new RegExp(`${iso}.*future`))
      t.ok(performance.now() - started < 500, `${file} dated ${iso}: refused without delay`)
    }
    const tomorrow = adapter.parse(redate(text, '2025-11-27'), NOW)
    t.ok(tomorrow.length > 0 && tomorrow.every((q) => q.date <= '2025-11-27'), `${adapter.name}: tomorrow's date is still accepted`)
  }
})

t.test('tomorrow is counted in the publisher\'s zone', async (t) => {
  // 20:00 UTC: already the 27th in Bishkek (UTC+6), still the 26th in UTC
  const evening = new Date('2025-11-26T20:00:00Z')
  for (const { adapter, file, text } of CASES) {
    const ahead = redate(text, '2025-11-28')
    if (adapter.source === 'nbkr') t.ok(adapter.parse(ahead, evening).length > 0, `${file}: the 28th is tomorrow in Bishkek`)
    if (adapter.source === 'open-er-api' || adapter.source === 'fawazahmed0') assertRejects(t, () => adapter.parse(ahead, evening), 'RATES_SOURCE_DATE', /future/)
  }
})

t.test('every adapter refuses a value date years back', async (t) => {
  for (const { adapter, text } of CASES) {
    for (const iso of ['2019-06-03', '1999-12-31', '1970-01-02']) {
      assertRejects(t, () => adapter.parse(redate(text, iso), NOW), 'RATES_SOURCE_DATE', /too old/)
    }
    // the rule is relative: the same payload is fine on its own day (weekly.xml is read with today's daily.xml)
    if (adapter.name === 'nbkr weekly.xml') continue
    const old = redate(text, '2019-06-03')
    t.ok(adapter.parse(old, new Date('2019-06-03T09:00:00Z')).length > 0, `${adapter.name}: a 2019 payload parses in 2019`)
  }
})

t.test('a stray future or old row of frankfurter: the future fails the payload, the old row is left out', async (t) => {
  const rows = JSON.parse(payload('frankfurter/rates-USD-2025-11-26.json')) as Array<{ date: string, quote: string }>
  const frankfurter = ADAPTERS.find((a) => a.source === 'frankfurter')
  if (frankfurter === undefined) throw new Error('no frankfurter adapter')
  const edited = (quote: string, date: string): string => JSON.stringify(rows.map((r) => r.quote === quote ? { ...r, date } : r))
  assertRejects(t, () => frankfurter.parse(edited('TMT', '2025-12-07'), NOW), 'RATES_SOURCE_DATE', /2025-12-07/)
  const got = byBase(frankfurter.parse(edited('TMT', '2019-01-01'), NOW))
  t.notOk(got.has('TMT'))
  t.equal(got.size, rows.length - 1)
})

/** Applies `edit` to the first match of `re` in the adapter's first payload. */
function parseEdited (name: string, re: RegExp, value: string): Quote[] {
  const adapter = ADAPTERS.find((a) => a.name === name)
  const file = adapter?.fixtures[0]
  if (adapter === undefined || file === undefined) throw new Error(`no adapter ${name}`)
  const text = payload(file)
  if (!re.test(text)) throw new Error(`${String(re)} matches nothing in ${file}`)
  return adapter.parse(text.replace(re, (_m, head: string) => `${head}${value}`), NOW)
}

const HOSTILE = ['1,0000000000E-320', '4.9e-324', '1e-300', '1E308', '1.7976931348623157e308', '1' + '0'.repeat(400), '0.' + '0'.repeat(330) + '1']

t.test('a subnormal, overflowing or absurd USD value through a pivot is refused, never Infinity', async (t) => {
  const pivots: Array<[string, RegExp]> = [
    ['nbkr daily.xml', /(<Currency ISOCode="USD">\s*<Nominal>1<\/Nominal>\s*<Value>)[^<]*/],
    ['nbk', /(<title>USD<\/title>\s*<description>)[^<]*/],
    ['cbu', /("Ccy":"USD".*?"Rate":")[^"]*/],
    ['nbt', /(<CharCode>USD<\/CharCode>\s*<Nominal>1<\/Nominal>\s*<Name>[^<]*<\/Name>\s*<Value>)[^<]*/],
    ['cbr', /(<CharCode>USD<\/CharCode><Nominal>1<\/Nominal><Name>[^<]*<\/Name><Value>)[^<]*/],
    ['cbt', /(<rate code="USD">[\s\S]*?<rate_tmt>)[^<]*/],
    ['cbr-xml-daily', /("USD": \{[\s\S]*?"Value": )[\d.]+/],
    ['cbr-xml-daily latest.js', /("USD": )[\d.e-]+/]
  ]
  for (const [name, re] of pivots) {
    for (const value of HOSTILE) {
      try {
        const quotes = parseEdited(name, re, value)
        t.fail(`${name} with USD ${value.slice(0, 30)} gave ${quotes.length} quotes, e.g. ${JSON.stringify(quotes[0])}`)
      } catch (err) {
        t.ok(isRatesError(err, 'RATES_SOURCE_PARSE'), `${name} with USD ${value.slice(0, 30)}: ${(err as Error).message.slice(0, 80)}`)
      }
    }
  }
})

t.test('one currency with such a value is left out; the rest stays', async (t) => {
  // a decimal comma is no JSON number (it fails the whole payload), so JSON gets the others only
  const json = HOSTILE.filter((v) => !v.includes(','))
  const rows: Array<[string, RegExp, string, string[]]> = [
    ['nbkr daily.xml', /(<Currency ISOCode="KZT">\s*<Nominal>1<\/Nominal>\s*<Value>)[^<]*/, 'KZT', HOSTILE],
    ['nbk', /(<title>KGS<\/title>\s*<description>)[^<]*/, 'KGS', HOSTILE],
    ['cbt', /(<rate code="KZT">[\s\S]*?<rate_usd>)[^<]*/, 'KZT', HOSTILE],
    ['open-er-api', /("KZT":)[\d.]+/, 'KZT', json],
    ['fawazahmed0', /("kzt": )[\d.]+/, 'KZT', json],
    ['frankfurter', /("quote":"KZT","rate":)[\d.]+/, 'KZT', json]
  ]
  for (const [name, re, code, values] of rows) {
    for (const value of values) {
      const quotes = parseEdited(name, re, value)
      t.notOk(byBase(quotes).has(code), `${name}: ${code} of ${value.slice(0, 30)} is left out`)
      t.ok(quotes.length > 0 && quotes.every((q) => Number.isFinite(q.inverse) && q.inverse > 1e-9 && q.inverse < 1e9 && Number.isFinite(1 / q.inverse)), `${name}: the other quotes are sane`)
    }
  }
})
