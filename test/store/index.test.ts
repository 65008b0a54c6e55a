import { pino } from 'pino'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createStore } from '../../src/store/index.js'
import { startRedis } from '../support/redis.js'
import { fiveRates, publishInput } from '../support/snapshot.js'

const log = pino({ level: 'silent' })

t.test('without REDIS_URL the embedded engine persists under FX_STATE_DIR', async (t) => {
  const dir = t.testdir()
  const config = loadConfig({ FX_STATE_DIR: dir })
  const store = await createStore(config, log)
  await store.publish(publishInput(fiveRates()))
  await store.close()
  const again = await createStore(config, log)
  t.teardown(() => again.close())
  t.equal(again.snapshot()?.seq, 1, 'a restart serves the persisted snapshot')
  t.equal(again.leadership.isLeader(), true)
})

t.test('with REDIS_URL instances share the state through Redis', async (t) => {
  const redis = await startRedis(t)
  const config = loadConfig({ REDIS_URL: redis.url, FX_STATE_DIR: '/nonexistent', FX_LEADER_LOCK_MS: '600', FX_LEADER_RENEW_MS: '150' })
  const a = await createStore(config, log)
  t.teardown(() => a.close())
  const b = await createStore(config, log)
  t.teardown(() => b.close())
  t.equal(a.leadership.isLeader(), true)
  t.equal(b.leadership.isLeader(), false, 'only one of two instances leads')
  const published = await a.publish(publishInput(fiveRates()))
  const c = await createStore(config, log)
  t.teardown(() => c.close())
  t.same(c.snapshot(), published, 'a new instance starts from the shared snapshot')
})
