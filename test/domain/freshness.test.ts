import t from 'tap'
import { anyCurrent } from '../../src/domain/freshness.js'

const rate = (cadence: string, stale: boolean): { cadence: string, stale: boolean } => ({ cadence, stale })

t.test('one fresh floating rate is enough', async (t) => {
  t.ok(anyCurrent([rate('daily', true), rate('weekly', false)]))
  t.notOk(anyCurrent([rate('daily', true), rate('weekly', true)]))
  t.notOk(anyCurrent([]), 'nothing is not current')
})

t.test('a peg proves nothing while floating rates exist, and counts when it is all there is', async (t) => {
  t.notOk(anyCurrent([rate('daily', true), rate('peg', false)]))
  t.ok(anyCurrent([rate('peg', false)]))
  t.notOk(anyCurrent([rate('peg', true)]))
})
