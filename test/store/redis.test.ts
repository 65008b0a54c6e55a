import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import type { Snapshot } from '../../src/domain/rate.js'
import { startRedis } from '../support/redis.js'
import { fiveRates, publishInput, rate } from '../support/snapshot.js'
import { until } from '../support/until.js'
import { conformance, day, PUBLIC_REASON } from './conformance.js'
import { COMMAND_TIMEOUT_MS, freshPrefix, LOCK_MS, open, pair, raw, RENEW_MS } from './redis-stores.js'

const server = process.env.REDIS_URL === undefined ? await startRedis(t) : undefined
const url = process.env.REDIS_URL ?? (server as { url: string }).url

conformance(t, 'redis', async (t) => {
  const store = await open(t, url, { keyPrefix: freshPrefix() })
  await until(() => store.leadership.isLeader(), { timeoutMs: 3000, what: 'the lone store leads' })
  return store
})

t.test('two instances: one leader, updates reach the follower, the follower cannot publish', async (t) => {
  const { a, b } = await pair(t, url)
  t.equal(a.leadership.isLeader(), true)
  t.equal(b.leadership.isLeader(), false)
  const heard: Array<[Snapshot, Snapshot | undefined]> = []
  b.subscribe((snapshot, previous) => { heard.push([snapshot, previous]) })

  const first = await a.publish(publishInput([rate('KZT', 510, { date: day(0) })]))
  const second = await a.publish(publishInput([rate('KZT', 511, { date: day(1) })]))
  await until(() => heard.length === 2, { timeoutMs: 3000, what: 'the follower heard both publishes' })
  t.same(heard.map(([s, p]) => [s.seq, p?.seq]), [[first.seq, undefined], [second.seq, first.seq]])
  t.same(heard[1]?.[0], second, 'the follower holds the very snapshot the leader stored')
  t.same(b.snapshot(), second)
  t.same(b.history('KZT'), a.history('KZT'))
  t.equal(b.history('KZT').length, 2)

  await t.rejects(b.publish(publishInput(fiveRates())), { name: 'RatesError', code: 'RATES_NOT_LEADER' })
  await t.rejects(b.saveObservations([]), { code: 'RATES_NOT_LEADER' })
  t.equal(a.snapshot()?.seq, second.seq, 'the rejected publish stored nothing')
  t.same(b.health(), { ok: true, reasons: [] })
})

t.test('closing the leader hands leadership over at once, not after the lock expires', async (t) => {
  const { a, b } = await pair(t, url)
  const changes: boolean[] = []
  b.leadership.onChange((leader) => { changes.push(leader) })
  await a.publish(publishInput(fiveRates()))
  const closedAt = Date.now()
  await a.close()
  await until(() => b.leadership.isLeader(), { timeoutMs: LOCK_MS * 3, what: 'the follower leads' })
  const elapsed = Date.now() - closedAt
  t.ok(elapsed < LOCK_MS, `took over after ${elapsed} ms (renew ${RENEW_MS} ms, lock ${LOCK_MS} ms)`)
  t.same(changes, [true])
  t.equal((await b.publish(publishInput(fiveRates({ KZT: 511 })))).seq, 2, 'the new leader continues the seq')
})

t.test('a leader whose lock was taken over is fenced off, and seq stays monotonic', async (t) => {
  const { a, b, prefix } = await pair(t, url)
  const client = raw(t, url)
  const changes: boolean[] = []
  a.leadership.onChange((leader) => { changes.push(leader) })
  await a.publish(publishInput(fiveRates()))
  // as if a paused leader's lock had expired and someone else had taken it
  await client.set(`${prefix}lock`, 'someone-else', 'PX', 5000)

  await t.rejects(a.publish(publishInput(fiveRates({ KZT: 520 }))), { code: 'RATES_NOT_LEADER' })
  t.equal(a.leadership.isLeader(), false, 'leadership is dropped at once')
  t.same(changes, [false])
  t.equal(await client.get(`${prefix}seq`), '1', 'the fenced publish wrote nothing')
  t.equal(JSON.parse(await client.get(`${prefix}snapshot`) ?? '{}').seq, 1)

  await client.del(`${prefix}lock`)
  await until(() => a.leadership.isLeader() || b.leadership.isLeader(), { timeoutMs: 3000, what: 'someone leads again' })
  const leader = a.leadership.isLeader() ? a : b
  t.equal(a.leadership.isLeader() && b.leadership.isLeader(), false, 'exactly one leader')
  t.equal((await leader.publish(publishInput(fiveRates({ KZT: 521 })))).seq, 2)
})

t.test('a follower that missed a message while disconnected catches up from the stored snapshot', async (t) => {
  const { a, b } = await pair(t, url, { retryMinMs: 500, retryMaxMs: 500 })
  const client = raw(t, url)
  const heard: Array<[number, number | undefined]> = []
  b.subscribe((snapshot, previous) => { heard.push([snapshot.seq, previous?.seq]) })
  await a.publish(publishInput(fiveRates()))
  await until(() => heard.length === 1, { timeoutMs: 3000, what: 'the follower heard the first publish' })

  const list = await client.client('LIST') as string
  const ids = list.split('\n').filter((l) => / name=b(:sub)? /.test(l)).map((l) => /id=(\d+)/.exec(l)?.[1])
  t.equal(ids.length, 2, 'the follower has a command and a subscriber connection')
  for (const id of ids) await client.client('KILL', 'ID', id as string)
  await until(() => !b.health().ok, { timeoutMs: 3000, what: 'the follower notices' })
  t.match(b.health().reasons, [/^redis (pub\/sub )?unreachable$/])

  const missed = await a.publish(publishInput(fiveRates({ KZT: 515 })))
  t.equal(b.snapshot()?.seq, 1, 'the follower missed it')
  await until(() => b.snapshot()?.seq === missed.seq, { timeoutMs: 3000, what: 'the follower caught up' })
  t.same(b.snapshot(), missed)
  t.same(heard, [[1, undefined], [2, 1]], 'and told its clients once')
  await until(() => b.health().ok, { timeoutMs: 3000, what: 'the follower is healthy again' })
})

t.test('a Redis outage: health says why, the last snapshot is served, and instances converge afterwards', async (t) => {
  const own = await startRedis(t)
  const { a, b, prefix } = await pair(t, own.url)
  const published = await a.publish(publishInput(fiveRates()))
  await until(() => b.snapshot()?.seq === published.seq, { timeoutMs: 3000, what: 'the follower is current' })

  await own.stop()
  await until(() => !a.health().ok && !b.health().ok, { timeoutMs: 3000, what: 'both notice the outage' })
  for (const store of [a, b]) {
    t.match(store.health().reasons, [/^redis (pub\/sub )?unreachable$/])
    t.notOk(store.health().reasons.some((r) => r.includes('127.0.0.1') || r.includes(String(own.port))), 'no address is shown')
    t.same(store.snapshot(), published, 'the last snapshot is still served')
  }
  t.equal(a.leadership.isLeader(), false, 'a leader that cannot renew stops leading')
  await t.rejects(a.publish(publishInput(fiveRates({ KZT: 530 }))), { name: 'RatesError' })

  // restarted empty (no persistence): the next leader puts its state back and seq carries on
  await own.start()
  await until(() => a.health().ok && b.health().ok, { timeoutMs: 3000, what: 'both are healthy again' })
  await until(() => a.leadership.isLeader() !== b.leadership.isLeader(), { timeoutMs: 3000, what: 'exactly one leads again' })
  const leader = a.leadership.isLeader() ? a : b
  const client = raw(t, own.url)
  const stored = async (): Promise<number | undefined> => JSON.parse(await client.get(`${prefix}snapshot`) ?? '{}').seq
  await until(async () => await stored() === published.seq, { timeoutMs: 3000, what: 'the new leader restored the lost state' })
  const next = await leader.publish(publishInput(fiveRates({ KZT: 531 })))
  t.equal(next.seq, published.seq + 1, 'seq never goes back, even over a Redis that lost its data')
  await until(() => a.snapshot()?.seq === next.seq && b.snapshot()?.seq === next.seq, { timeoutMs: 3000, what: 'both converge' })
  t.same(a.snapshot(), b.snapshot())
  t.equal(await stored(), next.seq)
})

t.test('after an outage with the data kept, a follower catches up with what it missed', async (t) => {
  const own = await startRedis(t)
  const { a, b } = await pair(t, own.url)
  await a.publish(publishInput(fiveRates()))
  await own.stop({ keepData: true })
  await until(() => !a.health().ok && !b.health().ok, { timeoutMs: 3000, what: 'both notice the outage' })
  await own.start()
  await until(() => a.leadership.isLeader() || b.leadership.isLeader(), { timeoutMs: 3000, what: 'someone leads again' })
  const leader = a.leadership.isLeader() ? a : b
  const next = await leader.publish(publishInput(fiveRates({ KZT: 540 })))
  t.equal(next.seq, 2)
  await until(() => a.snapshot()?.seq === 2 && b.snapshot()?.seq === 2, { timeoutMs: 3000, what: 'both converge' })
  t.same(a.snapshot(), b.snapshot())
})

t.test('a stored state that fails validation is not served, and health says so', async (t) => {
  const prefix = freshPrefix()
  const client = raw(t, url)
  await client.set(`${prefix}snapshot`, JSON.stringify({ seq: 3, quote: 'USD', updatedAt: 'yesterday', rates: [] }))
  const warnings: string[] = []
  const errors: string[] = []
  const log = { info () {}, warn (_: object, msg: string) { warnings.push(msg) }, error (_: object, msg: string) { errors.push(msg) } }
  const store = await open(t, url, { keyPrefix: prefix, log })
  t.equal(store.snapshot(), undefined)
  t.equal(store.health().ok, false)
  t.same(store.health().reasons, ['redis state invalid'])
  t.equal(store.leadership.isLeader(), false, 'an instance that cannot read the state does not lead')
  // several leadership attempts, each re-reading the invalid state
  await delay(RENEW_MS * 4)
  t.same(errors, ['stored state is invalid; keeping the in-memory copy'], 'the problem is logged once, not once per attempt')
  t.ok(warnings.filter((w) => w === 'could not prepare to lead').length <= 1, warnings.join('; '))

  await client.del(`${prefix}snapshot`)
  await until(() => store.leadership.isLeader() && store.health().ok, { timeoutMs: 3000, what: 'it recovers once the state is readable' })
})

t.test('a hung Redis (SIGSTOP): every instance is not ready within the answer deadline, and recovers after SIGCONT', async (t) => {
  const own = await startRedis(t)
  const { a, b } = await pair(t, own.url)
  const published = await a.publish(publishInput(fiveRates()))
  await until(() => b.snapshot()?.seq === published.seq, { timeoutMs: 3000, what: 'the follower is current' })
  t.same([a.health(), b.health()], [{ ok: true, reasons: [] }, { ok: true, reasons: [] }])

  // the connections stay open: only the missing answers can tell. The bound allows the deadline plus two
  // renew periods, for the 20 ms polls of this test and its own scheduling on a busy machine.
  const deadline = RENEW_MS + COMMAND_TIMEOUT_MS
  const pausedAt = Date.now()
  own.pause()
  await until(() => !a.health().ok && !b.health().ok, { timeoutMs: deadline * 4, what: 'both notice the hang' })
  const noticed = Date.now() - pausedAt
  t.ok(noticed <= deadline + 2 * RENEW_MS, `not ready after ${noticed} ms (deadline ${deadline} ms: renew ${RENEW_MS} + command timeout ${COMMAND_TIMEOUT_MS})`)
  for (const store of [a, b]) {
    t.same(store.health().reasons, ['redis not answering'])
    t.match(store.health().reasons[0], PUBLIC_REASON)
    t.same(store.snapshot(), published, 'the last snapshot is still served')
  }
  await until(() => !a.leadership.isLeader(), { timeoutMs: LOCK_MS + deadline * 2, what: 'the leader stops leading' })
  t.equal(b.health().ok, false, 'still not ready while hung')

  const resumedAt = Date.now()
  own.resume()
  await until(() => a.health().ok && b.health().ok, { timeoutMs: deadline * 4, what: 'both are ready again' })
  t.comment(`ready again ${Date.now() - resumedAt} ms after SIGCONT`)
  await until(() => a.leadership.isLeader() !== b.leadership.isLeader(), { timeoutMs: LOCK_MS * 4, what: 'exactly one leads again' })
  const leader = a.leadership.isLeader() ? a : b
  const next = await leader.publish(publishInput(fiveRates({ KZT: 512 })))
  t.equal(next.seq, published.seq + 1)
  await until(() => a.snapshot()?.seq === next.seq && b.snapshot()?.seq === next.seq, { timeoutMs: 3000, what: 'both converge' })
})

t.test('a Redis that hangs before an instance starts: the instance is not ready until it answers', async (t) => {
  const own = await startRedis(t)
  own.pause()
  const startedAt = Date.now()
  const store = await open(t, own.url, { keyPrefix: freshPrefix(), commandTimeoutMs: 300 })
  t.equal(store.health().ok, false, `not ready once created (${Date.now() - startedAt} ms)`)
  t.match(store.health().reasons, [PUBLIC_REASON])
  t.equal(store.leadership.isLeader(), false)
  own.resume()
  await until(() => store.health().ok && store.leadership.isLeader(), { timeoutMs: LOCK_MS * 4, what: 'it recovers once Redis answers' })
})

t.test('a Redis that holds every client (CLIENT PAUSE ALL) is not answering too, until the pause ends', async (t) => {
  const own = await startRedis(t)
  const { a, b } = await pair(t, own.url)
  await a.publish(publishInput(fiveRates()))
  const deadline = RENEW_MS + COMMAND_TIMEOUT_MS
  const client = raw(t, own.url)
  const pausedAt = Date.now()
  await client.call('CLIENT', 'PAUSE', String(deadline * 3), 'ALL')
  await until(() => !a.health().ok && !b.health().ok, { timeoutMs: deadline * 3, what: 'both notice' })
  t.ok(Date.now() - pausedAt <= deadline + 2 * RENEW_MS, `noticed after ${Date.now() - pausedAt} ms`)
  t.same([a.health().reasons, b.health().reasons], [['redis not answering'], ['redis not answering']])
  await until(() => a.health().ok && b.health().ok, { timeoutMs: deadline * 6, what: 'both recover when the pause ends' })
  await until(() => a.leadership.isLeader() !== b.leadership.isLeader(), { timeoutMs: LOCK_MS * 4, what: 'exactly one leads again' })
})
