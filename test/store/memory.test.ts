import t from 'tap'
import { createMemoryStore } from '../../src/store/memory.js'
import { conformance } from './conformance.js'

conformance(t, 'memory', async () => createMemoryStore({ quote: 'USD' }))
