import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Test } from 'tap'
import { createEmbeddedStore, STATE_FILE } from '../../src/store/embedded.js'
import type { EmbeddedStoreOptions } from '../../src/store/embedded.js'
import type { Store, StoreLog } from '../../src/store/store.js'
import { fiveRates, publishInput, rate } from '../support/snapshot.js'
import { NO_COVERAGE } from '../support/process.js'
import { until } from '../support/until.js'
import { conformance, day, fixing, observation, PUBLIC_REASON, sourceArchive } from './conformance.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const WRITER = fileURLToPath(new URL('../support/embedded-writer.ts', import.meta.url))
const NOW = new Date('2025-11-26T06:00:00.000Z')

async function open (t: Test, dir: string, log?: StoreLog, options: Partial<EmbeddedStoreOptions> = {}): Promise<Store> {
  const store = await createEmbeddedStore({ dir, quote: 'USD', now: () => NOW, ...(log !== undefined && { log }), ...options })
  t.teardown(() => store.close())
  return store
}

type Entry = [object, string]
function recordingLog (): StoreLog & { warnings: Entry[], errors: Entry[], infos: Entry[] } {
  const warnings: Entry[] = []
  const errors: Entry[] = []
  const infos: Entry[] = []
  return {
    warnings,
    errors,
    infos,
    info (obj, msg) { infos.push([obj, msg]) },
    error (obj, msg) { errors.push([obj, msg]) },
    warn (obj, msg) { warnings.push([obj, msg]) }
  }
}

async function onDisk (dir: string): Promise<{ snapshot: { seq: number } | null, observations: unknown[], history: Record<string, unknown[]> }> {
  return JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8'))
}

conformance(t, 'embedded', async (t) => open(t, join(t.testdir(), 'state')))

t.test('a missing directory is created and the state file is written on publish', async (t) => {
  const dir = join(t.testdir(), 'a', 'b')
  const store = await open(t, dir)
  await store.publish(publishInput(fiveRates()))
  const file = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8'))
  t.match(file, { format: 'fx-ticker/state', version: 2, snapshot: { seq: 1, quote: 'USD' }, observations: [] })
  t.equal(file.history.KZT.length, 1)
})

t.test('a restarted store serves the same snapshot, seq, history and observations at once', async (t) => {
  const dir = t.testdir()
  const first = await open(t, dir)
  await first.publish(publishInput([rate('KZT', 510, { date: day(0) })]))
  const obs = [observation('nbk', 'KZT', 511, day(1))]
  const published = await first.publish({ ...publishInput([rate('KZT', 511, { date: day(1) })]), observations: obs })
  const saved = [observation('nbk', 'KZT', 512, day(2))]
  await first.saveObservations(saved)
  await first.close()

  const second = await open(t, dir)
  t.same(second.snapshot(), published)
  t.same(second.history('KZT'), first.history('KZT'))
  t.equal(second.history('KZT').length, 2)
  t.same(second.observations(), saved)
  t.equal((await second.publish(publishInput(fiveRates()))).seq, 3, 'seq continues after a restart')
})

t.test('concurrent publishes each resolve durable, with strictly increasing seqs', async (t) => {
  const dir = t.testdir()
  const store = await open(t, dir)
  const results = await Promise.all(Array.from({ length: 25 }, (_, i) => store.publish(publishInput(fiveRates({ KZT: 500 + i })))))
  t.same(results.map((s) => s.seq), Array.from({ length: 25 }, (_, i) => i + 1))
  const file = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8'))
  t.equal(file.snapshot.seq, 25)
  t.same((await readdir(dir)).sort(), [STATE_FILE], 'no temp file is left behind')
})

t.test('a process killed mid-write leaves a complete state of the last or second-to-last publish', async (t) => {
  const dir = t.testdir()
  let before = 0
  for (let round = 0; round < 3; round++) {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], { cwd: ROOT, env: { ...process.env, ...NO_COVERAGE }, stdio: ['ignore', 'pipe', 'inherit'] })
    const seqs: number[] = []
    let buffer = ''
    const target = 5 + Math.floor(Math.random() * 40)
    let killed = false
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      seqs.push(...lines.map(Number))
      if (!killed && seqs.length >= target) {
        killed = true
        // a little later, so the kill lands at varying points of a write
        setTimeout(() => child.kill('SIGKILL'), Math.random() * 5)
      }
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const [code, signal] = await once(child, 'exit') as [number | null, string | null]
    if (!child.stdout.readableEnded) await once(child.stdout, 'end')
    clearTimeout(timer)
    t.equal(signal, 'SIGKILL', `round ${round}: the writer was killed (code ${code})`)
    const last = seqs.at(-1) ?? before
    t.ok(seqs.length >= target, `round ${round}: the writer published ${seqs.length} times before the kill`)
    t.equal(seqs[0], before + 1, 'the writer continued from the persisted seq')

    const log = recordingLog()
    const store = await open(t, dir, log)
    const seq = store.snapshot()?.seq
    t.ok(seq === last || seq === last + 1, `round ${round}: reopened at seq ${seq}, last reported ${last}`)
    t.same(log.warnings, [], 'the file was never torn')
    t.notOk((await readdir(dir)).some((n) => n.includes('.corrupt-')), 'nothing was set aside')
    await store.close()
    before = seq ?? 0
  }
})

const BAD_FILES: Array<[string, (valid: string) => string]> = [
  ['garbage', () => 'this is not { json'],
  ['a truncated file', (valid) => valid.slice(0, Math.floor(valid.length / 2))],
  ['an empty file', () => ''],
  ['a foreign file', (valid) => JSON.stringify({ ...JSON.parse(valid), format: 'someone-else/state' })],
  ['an unknown version', (valid) => JSON.stringify({ ...JSON.parse(valid), version: 3 })],
  ['JSON that is not an object', () => '[1, 2, 3]'],
  ['JSON null', () => 'null'],
  ['a file without a format', (valid) => JSON.stringify({ ...JSON.parse(valid), format: undefined })],
  ['another quote currency', (valid) => valid.replace('"quote":"USD"', '"quote":"EUR"')]
]

for (const [what, corrupt] of BAD_FILES) {
  t.test(`${what} is set aside and the store starts empty`, async (t) => {
    const dir = t.testdir()
    const writer = await open(t, dir)
    await writer.publish(publishInput(fiveRates()))
    await writer.close()
    const body = corrupt(await readFile(join(dir, STATE_FILE), 'utf8'))
    await writeFile(join(dir, STATE_FILE), body)

    const log = recordingLog()
    const store = await open(t, dir, log)
    t.equal(store.snapshot(), undefined)
    t.same(store.history('KZT'), [])
    const aside = join(dir, `${STATE_FILE}.corrupt-2025-11-26T06-00-00-000Z`)
    t.equal(await readFile(aside, 'utf8'), body, 'the bad file is kept for inspection')
    t.equal(log.warnings.length, 1)
    t.match(log.warnings[0], [{ movedTo: aside, problem: String }, /set aside/])
    t.equal((await store.publish(publishInput(fiveRates()))).seq, 1, 'and publishes afresh')
  })
}

t.test('a failing disk rejects the publish with RATES_STORE, keeps serving, and recovers', async (t) => {
  const dir = join(t.testdir(), 'state')
  const log = recordingLog()
  const store = await open(t, dir, log)
  const seen: number[] = []
  store.subscribe((s) => { seen.push(s.seq) })
  await store.publish(publishInput(fiveRates()))
  await rm(dir, { recursive: true })

  await t.rejects(store.publish(publishInput(fiveRates({ KZT: 511 }))), { name: 'RatesError', code: 'RATES_STORE' })
  await t.rejects(store.saveObservations([observation('nbk', 'KZT', 511)]), { name: 'RatesError', code: 'RATES_STORE' })
  t.same(store.health(), { ok: false, reasons: ['state not persisted'] }, 'a public reason, without the path or the error text')
  t.equal(log.errors.length, 1, 'the failure is logged once, with its detail')
  t.match(log.errors[0], [{ err: { code: 'ENOENT' }, file: join(dir, STATE_FILE) }, 'state write failed; retrying'])
  t.equal(store.snapshot()?.seq, 2, 'the newest snapshot is still served from memory')
  t.same(seen, [1, 2], 'clients still hear about it')

  await mkdir(dir)
  t.equal((await store.publish(publishInput(fiveRates({ KZT: 512 })))).seq, 3)
  t.same(store.health(), { ok: true, reasons: [] })
  const file = await onDisk(dir)
  t.equal(file.snapshot?.seq, 3)
  t.same(file.observations, [], 'the file holds the whole state of the last publish')
  t.equal(log.errors.length, 1, 'still logged once')
})

const RETRY = { retryMinMs: 10, retryMaxMs: 80 }

t.test('a failed state write is retried until the file matches memory; health recovers by itself', async (t) => {
  const dir = t.testdir()
  const log = recordingLog()
  const store = await open(t, dir, log, RETRY)
  await store.publish(publishInput(fiveRates()))
  // a directory where the state file goes: every rename onto it fails with EISDIR, as a full or broken disk would fail
  await rm(join(dir, STATE_FILE))
  await mkdir(join(dir, STATE_FILE))

  await t.rejects(store.publish(publishInput(fiveRates({ KZT: 511 }))), { code: 'RATES_STORE' })
  const obs = [observation('nbk', 'KZT', 511)]
  await t.rejects(store.saveObservations(obs), { code: 'RATES_STORE' })
  t.equal(store.snapshot()?.seq, 2)
  t.same(store.health(), { ok: false, reasons: ['state not persisted'] })
  for (const reason of store.health().reasons) {
    t.match(reason, PUBLIC_REASON)
    t.notOk(reason.includes(dir), 'the reason does not carry the path')
  }
  // several retry periods pass with the obstacle in place: still failing, and logged once
  await delay(RETRY.retryMaxMs * 3)
  t.equal(store.health().ok, false)
  t.equal(log.errors.length, 1, 'one error line for the whole outage, not one per retry')

  await rm(join(dir, STATE_FILE), { recursive: true })
  await until(() => store.health().ok, { timeoutMs: RETRY.retryMaxMs * 50, what: 'the store recovers without another publish' })
  const file = await onDisk(dir)
  t.equal(file.snapshot?.seq, 2, 'the file holds the seq that memory serves')
  t.same(file.observations, obs, 'and the observations saved while the disk failed')
  t.same(file.snapshot, store.snapshot())
  t.same((await readdir(dir)).sort(), [STATE_FILE], 'no temp file is left behind')
  t.match(log.infos.at(-1), [{ file: join(dir, STATE_FILE) }, 'state write recovered'])

  await store.close()
  const again = await open(t, dir)
  t.same(again.snapshot(), store.snapshot(), 'a restart serves the snapshot published while the disk was failing')
  t.same(again.observations(), obs)
})

t.test('a store closed while its disk fails makes one last attempt and resolves', async (t) => {
  const dir = t.testdir()
  const log = recordingLog()
  const store = await createEmbeddedStore({ dir, quote: 'USD', now: () => NOW, log, ...RETRY })
  await store.publish(publishInput(fiveRates()))
  await rm(join(dir, STATE_FILE))
  await mkdir(join(dir, STATE_FILE))
  await t.rejects(store.publish(publishInput(fiveRates({ KZT: 511 }))), { code: 'RATES_STORE' })
  await rm(join(dir, STATE_FILE), { recursive: true })
  await t.resolves(store.close())
  t.equal((await onDisk(dir)).snapshot?.seq, 2, 'the last state was written on close')
})

/** A state file of three days of KZT history, two observations and a snapshot of five rates, then `edit`ed. */
async function edited (t: Test, edit: (file: any) => void): Promise<{ dir: string, before: Store }> {
  const dir = t.testdir()
  const before = await open(t, dir)
  for (let i = 0; i < 3; i++) await before.publish(publishInput([rate('KZT', 510 + i, { date: day(i) })]))
  await before.publish({ ...publishInput(fiveRates()), observations: [observation('nbk', 'KZT', 511), observation('cbr', 'UZS', 12041)] })
  await before.close()
  const file = await onDisk(dir)
  edit(file)
  // Infinity and NaN are what JSON.stringify turns into null
  await writeFile(join(dir, STATE_FILE), JSON.stringify(file))
  return { dir, before }
}

t.test('a state file with invalid entries keeps what is valid and logs what was dropped', async (t) => {
  const { dir, before } = await edited(t, (file) => {
    file.snapshot.rates[1].price = null
    file.history.KZT[1].inverse = null
    file.history['not a currency'] = [{ date: day(0), price: 1, inverse: 1, basis: 'official' }]
    file.observations[0].inverse = null
  })
  const log = recordingLog()
  const store = await open(t, dir, log)
  const snapshot = before.snapshot() as NonNullable<ReturnType<Store['snapshot']>>
  t.equal(store.snapshot()?.seq, snapshot.seq, 'seq survives')
  t.equal(store.snapshot()?.updatedAt, snapshot.updatedAt)
  t.same(store.snapshot()?.rates, snapshot.rates.filter((_, i) => i !== 1), 'only the invalid rate is dropped')
  t.same(store.history('KZT'), before.history('KZT').filter((_, i) => i !== 1), 'the valid history stays')
  t.same(store.observations(), before.observations().slice(1))
  t.same(store.history('not a currency'), [])
  t.equal(log.warnings.length, 1, 'one warning')
  t.match(log.warnings[0], [{ file: join(dir, STATE_FILE), dropped: Array }, 'invalid entries dropped from the state file'])
  const dropped = (log.warnings[0]?.[0] as { dropped: string[] }).dropped
  t.equal(dropped.length, 4, dropped.join('; '))
  t.match(dropped, [/^snapshot\.rates\[1\] \(KZT\/USD\): /, /^history\.KZT\[1\]: /, /^history\["not a currency"\]: /, /^observations\[0\]: /])
  t.notOk((await readdir(dir)).some((n) => n.includes('.corrupt-')), 'nothing was set aside')
  t.equal((await store.publish(publishInput(fiveRates({ KZT: 520 })))).seq, snapshot.seq + 1, 'seq continues')
})

t.test('a state file whose snapshot envelope is invalid drops the snapshot and keeps history and observations', async (t) => {
  const { dir, before } = await edited(t, (file) => { file.snapshot.updatedAt = 'yesterday' })
  const log = recordingLog()
  const store = await open(t, dir, log)
  t.equal(store.snapshot(), undefined)
  t.same(store.history('KZT'), before.history('KZT'))
  t.same(store.observations(), before.observations())
  t.match(log.warnings, [[{ dropped: [/^snapshot\b/] }, 'invalid entries dropped from the state file']])
})

t.test('a state file with history or observations of the wrong shape keeps the rest', async (t) => {
  const { dir, before } = await edited(t, (file) => {
    file.history = 'lost'
    file.observations = { nbk: 1 }
  })
  const log = recordingLog()
  const store = await open(t, dir, log)
  t.same(store.snapshot(), before.snapshot())
  t.same(store.history('KZT'), [])
  t.same(store.observations(), [])
  t.match(log.warnings, [[{ dropped: ['history', 'observations'] }, 'invalid entries dropped from the state file']])
})

t.test('a version 1 state file (fixings without sources, no archive) loads whole; the next write is version 2', async (t) => {
  const dir = t.testdir()
  const snapshot = { seq: 4, quote: 'USD', updatedAt: '2024-01-04T06:00:00.000Z', rates: fiveRates() }
  const old = (date: string, inverse: number): object => ({ date, price: 1 / inverse, inverse, basis: 'official' })
  const observations = [observation('nbk', 'KZT', 512)]
  await writeFile(join(dir, STATE_FILE), JSON.stringify({
    format: 'fx-ticker/state',
    version: 1,
    snapshot,
    history: { KZT: [old(day(0), 510), old(day(1), 511), old(day(2), 512)], UZS: [old(day(2), 12000)] },
    observations
  }))
  const log = recordingLog()
  const store = await open(t, dir, log)
  t.same(store.snapshot(), snapshot)
  t.same(store.history('KZT'), [fixing(day(0), 510, []), fixing(day(1), 511, []), fixing(day(2), 512, [])], 'every fixing, with no sources')
  t.same(store.history('UZS'), [fixing(day(2), 12000, [])])
  t.same(store.observations(), observations)
  t.same(store.archive(), {})
  t.same(log.warnings, [], 'nothing dropped')
  t.notOk((await readdir(dir)).some((n) => n.includes('.corrupt-')), 'nothing set aside')

  const nbk = sourceArchive(day(0), day(3), { [day(3)]: { KZT: 513 } })
  await store.saveArchive({ archive: { nbk }, fixings: { KZT: [fixing(day(3), 513)] } })
  const file = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8'))
  t.equal(file.version, 2)
  t.same(file.archive, { nbk })
  t.same(file.history.KZT.map((f: { date: string, sources: string[] }) => [f.date, f.sources]), [[day(0), []], [day(1), []], [day(2), []], [day(3), ['nbk']]])
  t.same(file.history.UZS, [fixing(day(2), 12000, [])])
  t.equal(file.snapshot.seq, 4)
})

t.test('the archive survives a restart', async (t) => {
  const dir = t.testdir()
  const first = await open(t, dir)
  const nbk = sourceArchive(day(0), day(2), { [day(0)]: { KZT: 510 } })
  const cbr = sourceArchive(day(1), day(1))
  await first.saveArchive({ archive: { nbk }, fixings: { KZT: [fixing(day(0), 510)] } })
  await first.saveArchive({ archive: { cbr }, fixings: {} })
  await first.close()
  const second = await open(t, dir)
  t.same(second.archive(), { nbk, cbr })
  t.same(second.history('KZT'), [fixing(day(0), 510)])
  t.equal(second.snapshot(), undefined, 'a save is not a publish')
})

t.test('an invalid archive entry in the state file is dropped alone', async (t) => {
  const nbk = sourceArchive(day(0), day(2), { [day(0)]: { KZT: 510 } })
  const { dir, before } = await edited(t, (file) => {
    file.archive = { nbk, cbr: { asked: [[day(0), 'soon']], quotes: {} }, cbu: { ...nbk, quotes: { [day(0)]: { KZT: [null, 0] } } } }
  })
  const log = recordingLog()
  const store = await open(t, dir, log)
  t.same(store.archive(), { nbk })
  t.same(store.snapshot(), before.snapshot())
  t.same(store.history('KZT'), before.history('KZT'))
  t.same(store.observations(), before.observations())
  t.equal(log.warnings.length, 1)
  t.match((log.warnings[0]?.[0] as { dropped: string[] }).dropped, [/^archive\["cbr"\]: /, /^archive\["cbu"\]: /])
  t.notOk((await readdir(dir)).some((n) => n.includes('.corrupt-')), 'nothing was set aside')
})
