import t from 'tap'
import { EMPTY_SOURCE_ARCHIVE } from '../../src/domain/archive.js'
import type { Quote } from '../../src/domain/rate.js'
import { MAX_CARRY_DAYS, inForce, isKnown, mergeRange, nextUnknown, pruneBefore, recordAnswer, recordSpan, unknownSince } from '../../src/history/archive.js'
import { pickFixings } from '../../src/history/pick.js'
import { createMemoryStore } from '../../src/store/memory.js'

const q = (base: string, inverse: number, date: string): Quote => ({ base, inverse, date, relErr: 1e-6, cadence: 'daily' })

t.test('ranges merge when they overlap or touch, and stay apart otherwise', async (t) => {
  t.same(mergeRange([], ['2026-01-05', '2026-01-05']), [['2026-01-05', '2026-01-05']])
  t.same(mergeRange([['2026-01-05', '2026-01-07']], ['2026-01-08', '2026-01-09']), [['2026-01-05', '2026-01-09']], 'touching')
  t.same(mergeRange([['2026-01-05', '2026-01-07']], ['2026-01-01', '2026-01-03']), [['2026-01-01', '2026-01-03'], ['2026-01-05', '2026-01-07']], 'a gap of one day')
  t.same(mergeRange([['2026-01-01', '2026-01-02'], ['2026-01-06', '2026-01-07']], ['2026-01-03', '2026-01-05']), [['2026-01-01', '2026-01-07']], 'bridging two')
  t.same(mergeRange([['2025-12-30', '2026-01-02']], ['2025-12-31', '2026-01-01']), [['2025-12-30', '2026-01-02']], 'inside one, across a year')
})

t.test('an answer marks the days its set covers; a 404 marks its own day; today stays open', async (t) => {
  let a = recordAnswer(EMPTY_SOURCE_ARCHIVE, '2026-11-22', [q('KZT', 510, '2026-11-20'), q('UZS', 12000, '2026-11-20')], true)
  t.same(a.asked, [['2026-11-20', '2026-11-22']], 'Friday to the Sunday asked')
  t.same(a.quotes['2026-11-20'], { KZT: [510, 1e-6], UZS: [12000, 1e-6] })
  for (const d of ['2026-11-20', '2026-11-21', '2026-11-22']) t.ok(isKnown(a, d), `${d} known`)
  t.notOk(isKnown(a, '2026-11-19'))
  t.equal(inForce(a, '2026-11-22')?.date, '2026-11-20', 'Friday\'s set in force on Sunday')
  a = recordAnswer(a, '2026-11-19', [], true)
  t.ok(isKnown(a, '2026-11-19'), 'a day with no publication is known too')
  t.same(a.asked, [['2026-11-19', '2026-11-22']])
  const open = recordAnswer(a, '2026-11-23', [q('KZT', 511, '2026-11-23')], false)
  t.same(open.asked, a.asked, 'a non-final answer adds no range')
  t.ok(isKnown(open, '2026-11-23'), 'its set is held, so its own day is known')
  t.equal(nextUnknown(open, '2026-11-15', '2026-11-23', new Set()), '2026-11-18', 'the newest day not yet known')
  t.equal(nextUnknown(open, '2026-11-15', '2026-11-23', new Set(['2026-11-18'])), '2026-11-17', 'skipping those tried')
  t.equal(nextUnknown(open, '2026-11-19', '2026-11-23', new Set()), undefined, 'all known')
})

t.test('a set in force at most MAX_CARRY_DAYS; older state is pruned past the window', async (t) => {
  const a = recordAnswer(EMPTY_SOURCE_ARCHIVE, '2026-01-01', [q('KZT', 500, '2026-01-01')], true)
  t.equal(inForce(a, `2026-01-${String(1 + MAX_CARRY_DAYS).padStart(2, '0')}`)?.date, '2026-01-01')
  t.equal(inForce(a, `2026-01-${String(2 + MAX_CARRY_DAYS).padStart(2, '0')}`), undefined)
  t.equal(inForce(a, '2025-12-31'), undefined, 'never a later set')
  const b = recordAnswer(a, '2026-03-01', [q('KZT', 520, '2026-03-01')], true)
  const pruned = pruneBefore(b, '2026-02-20')
  t.same(Object.keys(pruned.quotes), ['2026-03-01'])
  t.same(pruned.asked, [['2026-03-01', '2026-03-01']])
  const clipped = pruneBefore(recordAnswer(EMPTY_SOURCE_ARCHIVE, '2026-03-01', [q('KZT', 1, '2026-02-25')], true), '2026-03-01')
  t.same(clipped.asked, [['2026-02-25', '2026-03-01']], 'a range is kept from the margin before the window')
})

t.test('which archive fixings are stored over what the history holds', async (t) => {
  const store = createMemoryStore({ quote: 'USD' })
  const archive = {
    nbk: recordAnswer(EMPTY_SOURCE_ARCHIVE, '2026-11-20', [q('KZT', 510, '2026-11-20')], true),
    cbu: recordAnswer(EMPTY_SOURCE_ARCHIVE, '2026-11-20', [q('KZT', 510.4, '2026-11-20')], true),
    cbr: recordAnswer(EMPTY_SOURCE_ARCHIVE, '2026-11-20', [q('KZT', 510.2, '2026-11-20')], true)
  }
  const opts = { currencies: ['KZT'], outlierPct: 1.5 }
  const picked = pickFixings(archive, ['2026-11-20'], opts, store)
  t.same(picked.KZT, [{ date: '2026-11-20', price: 1 / 510, inverse: 510, basis: 'official', sources: ['nbk', 'cbu', 'cbr'] }])
  await store.saveArchive({ archive, fixings: picked })
  t.same(pickFixings(archive, ['2026-11-20'], opts, store), {}, 'nothing new: nothing written')
  const withoutHome = { cbu: archive.cbu, cbr: archive.cbr }
  t.same(pickFixings(withoutHome, ['2026-11-20'], opts, store), {}, 'an official fixing is not overruled by a consensus')
  await store.saveArchive({ archive: {}, fixings: { KZT: [{ date: '2026-11-20', price: 1 / 505, inverse: 505, basis: 'official', sources: [] }] } })
  t.equal(pickFixings(withoutHome, ['2026-11-20'], opts, store).KZT?.[0]?.basis, 'consensus', 'but one of unknown sources (an older version\'s) is')
  const live = createMemoryStore({ quote: 'USD' })
  await live.publish({ rates: [{ pair: 'KZT/USD', base: 'KZT', quote: 'USD', price: 1 / 510, inverse: 510, date: '2026-11-20', basis: 'official', cadence: 'daily', nextExpectedAt: null, change: null, stale: false, observedAt: '2026-11-20T04:00:00.000Z', sources: [] }], fixings: {}, observations: [] })
  t.same(pickFixings(archive, ['2026-11-20'], opts, live), {}, 'the date the live rate carries is the live pipeline\'s')
})

t.test('a range answered at once: each day with a row has its set, the rest of the range had none', async (t) => {
  const rows = [q('KGS', 87.1, '2026-11-02'), q('KGS', 87.2, '2026-11-03'), q('KGS', 87.3, '2026-11-06')]
  const a = recordSpan(EMPTY_SOURCE_ARCHIVE, '2026-11-01', '2026-11-08', rows, '2026-11-07')
  t.same(Object.keys(a.quotes).sort(), ['2026-11-02', '2026-11-03', '2026-11-06'])
  t.same(a.asked, [['2026-11-01', '2026-11-07']], 'known up to the last final day, today left open')
  t.ok(isKnown(a, '2026-11-04'), 'a day without a row had no publication')
  t.equal(inForce(a, '2026-11-05')?.date, '2026-11-03')
  t.same(recordSpan(EMPTY_SOURCE_ARCHIVE, '2026-11-08', '2026-11-09', [q('KGS', 87, '2026-11-09')], '2026-11-07').asked, [], 'nothing final in a range of today and tomorrow')
  t.equal(unknownSince(a, '2026-11-30', '2026-11-01', new Set()), '2026-11-08', 'the unknown run stops at the known days')
  t.equal(unknownSince(a, '2026-11-30', '2026-11-20', new Set()), '2026-11-20', 'and at the start of the window')
  t.equal(unknownSince(EMPTY_SOURCE_ARCHIVE, '2026-11-30', '2020-01-01', new Set()), '2025-11-30', 'and after a year')
  t.equal(unknownSince(a, '2026-11-30', '2026-11-01', new Set(['2026-11-25'])), '2026-11-26', 'and at a day already tried')
})

t.test('pruning an archive with nothing before the window gives the same archive back', async (t) => {
  const a = recordAnswer(EMPTY_SOURCE_ARCHIVE, '2026-03-01', [q('KZT', 520, '2026-03-01')], true)
  t.equal(pruneBefore(a, '2026-03-01'), a, 'nothing to drop: the very same object')
  t.not(pruneBefore(a, '2026-04-01'), a, 'something to drop: a new one')
})
