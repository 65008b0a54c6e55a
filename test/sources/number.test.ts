import t from 'tap'
import { parseDecimal, parseNominal } from '../../src/sources/number.js'
import { assertRejects } from '../support/expected.js'

t.test('decimals as upstreams print them', async (t) => {
  const d = parseDecimal('x', 'v', '87,4500')
  t.equal(d.value, 87.45)
  t.ok(Math.abs(d.relErr / (0.00005 / 87.45) - 1) < 1e-12, 'half a unit of the fourth decimal')
  t.equal(parseDecimal('x', 'v', '5,39256E-05').value, 5.39256e-5)
  t.equal(parseDecimal('x', 'v', '10 000,5').value, 10000.5)
  t.equal(parseDecimal('x', 'v', 2.2250738585072014e-308).value, 2.2250738585072014e-308, 'the smallest normal double is a number')
})

t.test('subnormal, overflowing, zero, negative and non-numbers are refused', async (t) => {
  for (const raw of ['1,0000000000E-320', '4.9e-324', '2.225e-308', '1e-400', '1e309', '1' + '0'.repeat(400), '0', '0,0000', '-1', '-0', 'NaN', 'Infinity', '', '1e', 5e-324, -1, Infinity, NaN, null]) {
    assertRejects(t, () => parseDecimal('nbkr', 'USD value', raw), 'RATES_SOURCE_PARSE', /nbkr: USD value/)
  }
})

t.test('a bound on the quantisation error always exists', async (t) => {
  const long = parseDecimal('x', 'v', '0.' + '0'.repeat(300) + '1e300')
  t.ok(Number.isFinite(long.relErr) && long.relErr >= 0, `relErr ${long.relErr}`)
  t.ok(Number.isFinite(parseDecimal('x', 'v', '1e300', 2).relErr))
})

t.test('nominals are positive safe integers', async (t) => {
  t.equal(parseNominal('x', 'n', '10 000'), 10000)
  for (const raw of ['0', '-1', '1.5', '', '9'.repeat(20), '1e3']) assertRejects(t, () => parseNominal('x', 'n', raw), 'RATES_SOURCE_PARSE', /nominal/)
})
