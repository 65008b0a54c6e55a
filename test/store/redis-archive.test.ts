import t from 'tap'
import type { Test } from 'tap'
import type { Snapshot } from '../../src/domain/rate.js'
import type { StoreLog } from '../../src/store/store.js'
import { startRedis } from '../support/redis.js'
import { fiveRates, publishInput, rate } from '../support/snapshot.js'
import { until } from '../support/until.js'
import { day, fixing, observation, sourceArchive } from './conformance.js'
import { freshPrefix, LOCK_MS, open, pair, raw, RENEW_MS } from './redis-stores.js'

const server = process.env.REDIS_URL === undefined ? await startRedis(t) : undefined
const url = process.env.REDIS_URL ?? (server as { url: string }).url
/** A message on the channel reaches a follower at once; this only bounds a broken one. */
const HEARD_MS = LOCK_MS * 5

const nbk = sourceArchive(day(0), day(2), { [day(0)]: { KZT: 510 }, [day(2)]: { KZT: 511, UZS: 12000 } })
const cbr = sourceArchive(day(1), day(3), { [day(1)]: { KZT: 510.5 } })
const update = {
  archive: { nbk },
  fixings: { KZT: [fixing(day(0), 510), fixing(day(2), 511)], UZS: [fixing(day(2), 12000)] }
}

t.test('a save on the leader reaches the follower: archive and history, no new seq, nobody told', async (t) => {
  const { a, b, prefix } = await pair(t, url)
  const listener = raw(t, url)
  const messages: string[] = []
  listener.on('message', (_: string, text: string) => { messages.push(text) })
  await listener.subscribe(`${prefix}updates`)
  const published = await a.publish(publishInput([rate('KZT', 512, { date: day(3) })]))
  await until(() => b.snapshot()?.seq === published.seq, { timeoutMs: HEARD_MS, what: 'the follower is current' })
  let notified = 0
  b.subscribe(() => { notified++ })

  await a.saveArchive(update)
  await until(() => b.history('UZS').length === 1, { timeoutMs: HEARD_MS, what: 'the follower has the new history' })
  t.same(b.archive(), { nbk })
  t.same(b.history('KZT'), a.history('KZT'))
  t.same(b.history('KZT').map((f) => f.date), [day(0), day(2), day(3)])
  t.same(b.snapshot(), published, 'the snapshot and seq stay')
  t.equal(notified, 0)
  await until(() => messages.length === 2, { timeoutMs: HEARD_MS, what: 'the save is announced' })
  t.match(JSON.parse(messages[1] as string), { seq: published.seq, archive: ['nbk'], history: ['KZT', 'UZS'] })
  t.ok((messages[1] as string).length < 200, 'the message names what changed, it does not carry it')

  // a save, then a publish right after it: both arrive, in order
  await a.saveArchive({ archive: { cbr }, fixings: { KZT: [fixing(day(1), 510.5, ['cbr'])] } })
  const next = await a.publish(publishInput([rate('KZT', 513, { date: day(4) })]))
  await until(() => b.snapshot()?.seq === next.seq, { timeoutMs: HEARD_MS, what: 'the follower has the publish' })
  await until(() => b.archive().cbr !== undefined, { timeoutMs: HEARD_MS, what: 'the follower has the second save' })
  t.same(b.history('KZT').map((f) => f.date), [day(0), day(1), day(2), day(3), day(4)])
  t.same(b.history('KZT'), a.history('KZT'))
  t.same(b.archive(), { nbk, cbr })
  t.same(await raw(t, url).hgetall(`${prefix}archive`), { nbk: JSON.stringify(nbk), cbr: JSON.stringify(cbr) })
})

t.test('a follower cannot save, and a deposed leader saves nothing', async (t) => {
  const { a, b, prefix } = await pair(t, url)
  const client = raw(t, url)
  await a.publish(publishInput(fiveRates()))
  await a.saveArchive(update)
  await t.rejects(b.saveArchive({ archive: { cbr }, fixings: {} }), { name: 'RatesError', code: 'RATES_NOT_LEADER' })

  const history = await client.hgetall(`${prefix}history`)
  await client.set(`${prefix}lock`, 'someone-else', 'PX', 5000)
  await t.rejects(a.saveArchive({ archive: { cbr }, fixings: { KZT: [fixing(day(1), 510.5)] } }), { code: 'RATES_NOT_LEADER' })
  t.equal(a.leadership.isLeader(), false, 'it steps down at once')
  t.same(await client.hgetall(`${prefix}archive`), { nbk: JSON.stringify(nbk) }, 'the archive is unchanged')
  t.same(await client.hgetall(`${prefix}history`), history, 'the history is unchanged')
  t.same(a.archive(), { nbk }, 'and so is its copy')
  t.equal(a.history('KZT').length, 3)
})

t.test('a restarted instance reads the archive and history back', async (t) => {
  const prefix = freshPrefix()
  const first = await open(t, url, { keyPrefix: prefix })
  await until(() => first.leadership.isLeader(), { timeoutMs: HEARD_MS, what: 'it leads' })
  await first.publish(publishInput(fiveRates()))
  await first.saveArchive(update)
  await first.close()
  const second = await open(t, url, { keyPrefix: prefix })
  t.same(second.archive(), { nbk })
  t.same(second.history('KZT'), first.history('KZT'))
  t.same(second.history('UZS'), first.history('UZS'))
  t.same(second.history('UZS')[0], fixing(day(2), 12000))
})

t.test('a follower that missed a save while disconnected re-reads it on reconnection', async (t) => {
  const { a, b } = await pair(t, url, { retryMinMs: 100, retryMaxMs: 100 })
  const client = raw(t, url)
  await a.publish(publishInput(fiveRates()))
  const list = await client.client('LIST') as string
  const ids = list.split('\n').filter((l) => / name=b(:sub)? /.test(l)).map((l) => /id=(\d+)/.exec(l)?.[1])
  t.equal(ids.length, 2)
  for (const id of ids) await client.client('KILL', 'ID', id as string)
  await a.saveArchive(update)
  await until(() => b.archive().nbk !== undefined, { timeoutMs: HEARD_MS, what: 'the follower re-read the state' })
  t.same(b.archive(), a.archive())
  t.same(b.history('UZS'), a.history('UZS'))
})

/** The keys as the version before the archive wrote them: fixings without sources, no archive key. */
async function writeOldLayout (t: Test, prefix: string): Promise<{ snapshot: Snapshot, history: Record<string, string> }> {
  const client = raw(t, url)
  const snapshot: Snapshot = { seq: 7, quote: 'USD', updatedAt: '2024-01-05T06:00:00.000Z', rates: fiveRates() }
  const old = (date: string, inverse: number): object => ({ date, price: 1 / inverse, inverse, basis: 'official' })
  const history = {
    KZT: JSON.stringify([old(day(0), 510), old(day(1), 511), old(day(2), 512)]),
    UZS: JSON.stringify([old(day(2), 12000)])
  }
  await client.set(`${prefix}seq`, '7')
  await client.set(`${prefix}snapshot`, JSON.stringify(snapshot))
  await client.hset(`${prefix}history`, history)
  await client.set(`${prefix}observations`, JSON.stringify([observation('nbk', 'KZT', 512)]))
  return { snapshot, history }
}

t.test('keys written by the previous version load without loss, and the next save adds the archive', async (t) => {
  const prefix = freshPrefix()
  const { snapshot, history } = await writeOldLayout(t, prefix)
  const { a, b } = await pair(t, url, {}, { keyPrefix: prefix })
  for (const store of [a, b]) {
    t.same(store.snapshot(), snapshot)
    t.same(store.history('KZT'), [fixing(day(0), 510, []), fixing(day(1), 511, []), fixing(day(2), 512, [])], 'every fixing, with no sources')
    t.same(store.history('UZS'), [fixing(day(2), 12000, [])])
    t.same(store.archive(), {})
    t.same(store.health(), { ok: true, reasons: [] })
  }
  await until(() => a.leadership.isLeader(), { timeoutMs: HEARD_MS, what: 'the first instance leads' })
  await a.saveArchive({ archive: { nbk }, fixings: { KZT: [fixing(day(3), 513)] } })
  await until(() => b.archive().nbk !== undefined, { timeoutMs: HEARD_MS, what: 'the follower has the save' })
  const client = raw(t, url)
  t.same(await client.hgetall(`${prefix}archive`), { nbk: JSON.stringify(nbk) })
  t.equal(await client.hget(`${prefix}history`, 'UZS'), history.UZS, 'a base the save did not name is untouched')
  t.same(b.history('KZT').map((f) => [f.date, f.sources]), [[day(0), []], [day(1), []], [day(2), []], [day(3), ['nbk']]])
  t.equal((await a.publish(publishInput(fiveRates()))).seq, 8, 'seq carries on')
})

t.test('an invalid archive entry in Redis is left out alone and logged once', async (t) => {
  const prefix = freshPrefix()
  const { snapshot } = await writeOldLayout(t, prefix)
  const client = raw(t, url)
  await client.hset(`${prefix}archive`, {
    nbk: JSON.stringify(nbk),
    cbr: '{"asked": [["2024-01-01"',
    cbu: JSON.stringify({ asked: 'all of it', quotes: {} }),
    'Not An Id': JSON.stringify(cbr)
  })
  const warned = (warnings: Array<[object, string]>): StoreLog => ({ info () {}, error () {}, warn (obj, msg) { warnings.push([obj, msg]) } })
  const warnings: Array<[object, string]> = []
  const a = await open(t, url, { keyPrefix: prefix, log: warned(warnings) })
  const b = await open(t, url, { keyPrefix: prefix, log: warned([]) })
  await until(() => a.leadership.isLeader(), { timeoutMs: HEARD_MS, what: 'the first instance leads' })
  for (const store of [a, b]) {
    t.same(store.archive(), { nbk }, 'the valid entry stays')
    t.same(store.snapshot(), snapshot)
    t.equal(store.history('KZT').length, 3)
    t.same(store.health(), { ok: true, reasons: [] })
  }
  t.equal(warnings.length, 1, warnings.map(([, msg]) => msg).join('; '))
  const dropped = (warnings[0]?.[0] as { dropped: string[] }).dropped
  t.match(dropped.sort(), [/^archive\["Not An Id"\]: /, /^archive\["cbr"\]: /, /^archive\["cbu"\]: asked/])
  t.equal(warnings[0]?.[1], 'invalid archive entries in redis left out')

  // backfill saves that source again: the stored entry is valid from then on
  await a.saveArchive({ archive: { cbu: cbr }, fixings: {} })
  await until(() => b.archive().cbu !== undefined, { timeoutMs: HEARD_MS, what: 'the follower has the save' })
  t.same(b.archive(), { nbk, cbu: cbr })
})

t.test('a Redis that lost its data gets the archive and history back from the new leader', async (t) => {
  const own = await startRedis(t)
  const { a, b, prefix } = await pair(t, own.url)
  const published = await a.publish(publishInput([rate('KZT', 512, { date: day(3) })]))
  await a.saveArchive(update)
  await until(() => b.archive().nbk !== undefined, { timeoutMs: HEARD_MS, what: 'the follower has the save' })
  const history = a.history('KZT')

  await own.stop()
  await until(() => !a.health().ok && !b.health().ok, { timeoutMs: HEARD_MS, what: 'both notice the outage' })
  await own.start()
  await until(() => a.leadership.isLeader() !== b.leadership.isLeader(), { timeoutMs: LOCK_MS * 5, what: 'exactly one leads again' })
  const client = raw(t, own.url)
  await until(async () => await client.get(`${prefix}seq`) === String(published.seq), { timeoutMs: RENEW_MS * 20, what: 'the state is restored' })
  t.same(await client.hgetall(`${prefix}archive`), { nbk: JSON.stringify(nbk) })
  t.same(JSON.parse(await client.hget(`${prefix}history`, 'KZT') ?? '[]'), history)
  t.same(JSON.parse(await client.hget(`${prefix}history`, 'UZS') ?? '[]'), [fixing(day(2), 12000)])

  // a third instance starting now reads it all from Redis
  const c = await open(t, own.url, { keyPrefix: prefix })
  t.same(c.archive(), { nbk })
  t.same(c.history('KZT'), history)
  const leader = a.leadership.isLeader() ? a : b
  await leader.saveArchive({ archive: { cbr }, fixings: {} })
  await until(() => a.archive().cbr !== undefined && b.archive().cbr !== undefined && c.archive().cbr !== undefined,
    { timeoutMs: HEARD_MS, what: 'every instance has the save' })
})

t.test('a follower re-reads the named fields at its seq, everything when behind, nothing when past it', async (t) => {
  const { a, b, prefix } = await pair(t, url)
  const client = raw(t, url)
  const channel = `${prefix}updates`
  const announce = async (seq: number, archive: string[], history: string[] = []): Promise<void> => {
    await client.publish(channel, JSON.stringify({ seq, archive, history }))
  }
  const published = await a.publish(publishInput(fiveRates()))
  await until(() => b.snapshot()?.seq === published.seq, { timeoutMs: HEARD_MS, what: 'the follower is current' })

  // written behind the store's back, each announced differently
  await client.hset(`${prefix}archive`, { nbk: JSON.stringify(nbk), cbr: JSON.stringify(cbr), cbu: JSON.stringify(cbr) })
  await announce(published.seq - 1, ['cbu'])
  await announce(published.seq, ['nbk'])
  await until(() => b.archive().nbk !== undefined, { timeoutMs: HEARD_MS, what: 'the follower re-read nbk' })
  t.same(b.archive(), { nbk }, 'an older announcement is skipped, and only the named field is read at the same seq')

  await announce(published.seq + 1, ['nbk'])
  await until(() => b.archive().cbr !== undefined, { timeoutMs: HEARD_MS, what: 'the follower re-read everything' })
  t.same(b.archive(), { nbk, cbr, cbu: cbr }, 'an announcement ahead of the copy is a gap: everything is re-read')
  t.equal(b.snapshot()?.seq, published.seq)

  await client.hset(`${prefix}history`, 'KZT', '[{"date": "2024-01')
  await announce(published.seq, [], ['KZT'])
  await until(() => !b.health().ok, { timeoutMs: HEARD_MS, what: 'the follower notices the invalid history' })
  t.same(b.health().reasons, ['redis state invalid'])
  t.same(b.history('KZT'), a.history('KZT'), 'the copy is kept')
  await client.hset(`${prefix}history`, 'KZT', JSON.stringify(a.history('KZT')))
  await announce(published.seq + 1, [])
  await until(() => b.health().ok, { timeoutMs: HEARD_MS, what: 'the follower recovers' })
})
