import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import { createRetryingWriter } from '../../src/store/retrying-writer.js'
import type { StoreLog } from '../../src/store/store.js'
import { until } from '../support/until.js'

const MIN = 20
const MAX = 80

function recordingLog (): StoreLog & { lines: Array<[string, object, string]> } {
  const lines: Array<[string, object, string]> = []
  return {
    lines,
    info (obj, msg) { lines.push(['info', obj, msg]) },
    warn (obj, msg) { lines.push(['warn', obj, msg]) },
    error (obj, msg) { lines.push(['error', obj, msg]) }
  }
}

/** A writer over a fake disk that fails while `failing` is set and records when each attempt started and what it wrote. */
function fixture () {
  const disk = { failing: false, value: 0, written: -1, attempts: [] as number[] }
  const log = recordingLog()
  const writer = createRetryingWriter({
    async write () {
      disk.attempts.push(Date.now())
      if (disk.failing) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
      disk.written = disk.value
    },
    retryMinMs: MIN,
    retryMaxMs: MAX,
    log,
    context: { file: 'test' }
  })
  t.teardown(() => writer.close())
  return { disk, log, writer }
}

t.test('retries back off from retryMinMs, doubling up to retryMaxMs, and stop once a write lands', async (t) => {
  const { disk, log, writer } = fixture()
  disk.failing = true
  disk.value = 1
  await t.rejects(writer.changed(), { code: 'ENOSPC' }, 'the change is told its first attempt failed')
  t.equal(writer.behind(), true)
  await until(() => disk.attempts.length >= 6, { timeoutMs: MAX * 60, what: 'five retries' })
  const gaps = disk.attempts.slice(1).map((at, i) => at - (disk.attempts[i] as number))
  const expected = [MIN, 2 * MIN, MAX, MAX, MAX]
  // a timer never fires before its delay (1 ms of rounding aside); how late it fires depends on the machine
  gaps.slice(0, 5).forEach((gap, i) => t.ok(gap >= (expected[i] as number) - 1, `retry ${i + 1} after ${gap} ms (at least ${expected[i]})`))
  t.equal(log.lines.filter(([level]) => level === 'error').length, 1, 'one error line for the whole failure')

  disk.value = 2
  disk.failing = false
  await until(() => !writer.behind(), { timeoutMs: MAX * 60, what: 'a retry lands' })
  t.equal(disk.written, 2, 'a retry writes the newest state, not the one that first failed')
  t.match(log.lines.at(-1), ['info', { file: 'test', attempts: Number }, 'state write recovered'])
  const settled = disk.attempts.length
  await delay(MAX * 3)
  t.equal(disk.attempts.length, settled, 'no attempt after the write landed')
})

t.test('a change while failing is attempted at once, and resolves when that attempt lands', async (t) => {
  const { disk, writer } = fixture()
  disk.failing = true
  await t.rejects(writer.changed())
  disk.failing = false
  disk.value = 5
  const started = Date.now()
  await writer.changed()
  t.ok(Date.now() - started < MIN, 'did not wait for the retry timer')
  t.equal(disk.written, 5)
  t.equal(writer.behind(), false)
})

t.test('changes in a burst coalesce into few writes and each resolves once durable', async (t) => {
  const { disk, writer } = fixture()
  const all = Array.from({ length: 20 }, async (_, i) => { disk.value = i; await writer.changed() })
  await Promise.all(all)
  t.equal(disk.written, 19)
  t.ok(disk.attempts.length < 20, `${disk.attempts.length} writes for 20 changes`)
})

t.test('close stops retrying after one last attempt, and never rejects', async (t) => {
  const { disk, log, writer } = fixture()
  disk.failing = true
  await t.rejects(writer.changed())
  const before = disk.attempts.length
  await t.resolves(writer.close())
  t.equal(disk.attempts.length, before + 1, 'one last attempt')
  t.match(log.lines.at(-1), ['error', { err: { code: 'ENOSPC' } }, 'state not persisted at shutdown'])
  await delay(MAX * 3)
  t.equal(disk.attempts.length, before + 1, 'no retry after close')
})

t.test('publishes while the disk fails do not stretch the backoff: a recovered disk is written within about as long as it failed', async (t) => {
  const disk = { failing: true, written: false }
  const writer = createRetryingWriter({
    async write () {
      if (disk.failing) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
      disk.written = true
    },
    retryMinMs: MIN,
    retryMaxMs: 60_000,
    log: recordingLog(),
    context: { file: 'test' }
  })
  t.teardown(() => writer.close())
  const failedAt = Date.now()
  // thirty publishes in a row, each an attempt that fails: counted per attempt, the delay would reach its cap
  for (let i = 0; i < 30; i++) {
    await writer.changed().catch(() => {})
    await delay(10)
  }
  const failedFor = Date.now() - failedAt
  disk.failing = false
  const recovered = Date.now()
  await until(() => disk.written, { timeoutMs: 60_000, what: 'the retry after the disk recovered' })
  const took = Date.now() - recovered
  t.ok(took <= 2 * failedFor + MIN * 10, `written ${took} ms after the disk recovered, having failed for ${failedFor} ms`)
})
