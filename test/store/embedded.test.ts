import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Test } from 'tap'
import { createEmbeddedStore, STATE_FILE } from '../../src/store/embedded.js'
import type { Store, StoreLog } from '../../src/store/store.js'
import { fiveRates, publishInput, rate } from '../support/snapshot.js'
import { conformance, day, observation } from './conformance.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const WRITER = fileURLToPath(new URL('../support/embedded-writer.ts', import.meta.url))
const NOW = new Date('2025-11-26T06:00:00.000Z')

async function open (t: Test, dir: string, log?: StoreLog): Promise<Store> {
  const store = await createEmbeddedStore({ dir, quote: 'USD', now: () => NOW, ...(log !== undefined && { log }) })
  t.teardown(() => store.close())
  return store
}

function recordingLog (): StoreLog & { warnings: Array<[object, string]> } {
  const warnings: Array<[object, string]> = []
  return { warnings, info () {}, error () {}, warn (obj, msg) { warnings.push([obj, msg]) } }
}

conformance(t, 'embedded', async (t) => open(t, join(t.testdir(), 'state')))

t.test('a missing directory is created and the state file is written on publish', async (t) => {
  const dir = join(t.testdir(), 'a', 'b')
  const store = await open(t, dir)
  await store.publish(publishInput(fiveRates()))
  const file = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8'))
  t.match(file, { format: 'fx-ticker/state', version: 1, snapshot: { seq: 1, quote: 'USD' }, observations: [] })
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
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
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
  ['an unknown version', (valid) => JSON.stringify({ ...JSON.parse(valid), version: 2 })],
  ['a schema-invalid snapshot', (valid) => valid.replace(/"price":[0-9.e-]+/, '"price":-1')],
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
  const store = await open(t, dir)
  const seen: number[] = []
  store.subscribe((s) => { seen.push(s.seq) })
  await store.publish(publishInput(fiveRates()))
  await rm(dir, { recursive: true })

  await t.rejects(store.publish(publishInput(fiveRates({ KZT: 511 }))), { name: 'RatesError', code: 'RATES_STORE' })
  await t.rejects(store.saveObservations([observation('nbk', 'KZT', 511)]), { name: 'RatesError', code: 'RATES_STORE' })
  const health = store.health()
  t.equal(health.ok, false)
  t.match(health.reasons, [/state write failed: .*ENOENT/])
  t.equal(store.snapshot()?.seq, 2, 'the newest snapshot is still served from memory')
  t.same(seen, [1, 2], 'clients still hear about it')

  await mkdir(dir)
  t.equal((await store.publish(publishInput(fiveRates({ KZT: 512 })))).seq, 3)
  t.same(store.health(), { ok: true, reasons: [] })
  const file = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8'))
  t.equal(file.snapshot.seq, 3)
  t.same(file.observations, [], 'the file holds the whole state of the last publish')
})
