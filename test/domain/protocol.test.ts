import t from 'tap'
import fc from 'fast-check'
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { CLOSE_RESTART, CLOSE_TRY_AGAIN, MAX_HINT_MS, retryHint, retryReason } from '../../src/domain/protocol.js'

t.test('a retry hint the hub writes is the hint the client reads', async (t) => {
  fc.assert(fc.property(
    fc.constantFrom(CLOSE_RESTART, CLOSE_TRY_AGAIN), fc.constantFrom('restart', 'slow consumer'), fc.nat({ max: 999_999_999 }),
    (code, what, ms) => retryHint(code, retryReason(what, ms)) === Math.min(ms, MAX_HINT_MS)
  ))
  t.equal(retryReason('restart', 12_345), 'restart; retry in 12345 ms')
  t.ok(Buffer.byteLength(retryReason('slow consumer', 999_999_999)) <= 123, 'fits a close frame')
})

t.test('only a restart or a try-again close carries a hint', async (t) => {
  for (const code of [1000, 1001, 1006, 1008, 1009, 1011]) t.equal(retryHint(code, retryReason('restart', 500)), undefined, `code ${code}`)
  t.equal(retryHint(CLOSE_RESTART, 'restart'), undefined)
  t.equal(retryHint(CLOSE_TRY_AGAIN, 'retry in 1234567890 ms'), undefined, 'ten digits is no hint')
})

t.test('the protocol module pulls no dependency into the widget and the client', async (t) => {
  const entry = fileURLToPath(new URL('../../src/domain/protocol.ts', import.meta.url))
  const out = await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, format: 'esm', logLevel: 'silent' })
  t.same(Object.keys(out.metafile.inputs).map((f) => f.replace(/^.*\/src\//, 'src/')), ['src/domain/protocol.ts'])
  t.notMatch(out.outputFiles[0]!.text, /zod/)
})
