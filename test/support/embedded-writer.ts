// Child process of the kill -9 test: publishes in a loop and reports each seq once its publish resolved.
import { createEmbeddedStore } from '../../src/store/embedded.js'
import { fiveRates, publishInput } from './snapshot.js'

const dir = process.argv[2]
if (dir === undefined) throw new Error('usage: embedded-writer <dir>')
const store = await createEmbeddedStore({ dir, quote: 'USD' })
for (let i = 0; i < 100_000; i++) {
  const snapshot = await store.publish(publishInput(fiveRates({ KZT: 500 + (i % 1000) / 100 })))
  process.stdout.write(`${snapshot.seq}\n`)
}
