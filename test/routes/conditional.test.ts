import t from 'tap'
import { etagMatches } from '../../src/routes/conditional.js'
import { build } from '../support/build.js'
import { fiveRates, publishInput } from '../support/snapshot.js'

t.test('If-None-Match: any listed tag, weak or strong, or *', async (t) => {
  t.ok(etagMatches('"7"', '"7"'))
  t.ok(etagMatches('W/"7"', '"7"'))
  t.ok(etagMatches('"1", W/"7" ,"9"', '"7"'))
  t.ok(etagMatches('*', '"7"'))
  t.notOk(etagMatches(undefined, '"7"'))
  t.notOk(etagMatches('', '"7"'))
  t.notOk(etagMatches('"70"', '"7"'))
  t.notOk(etagMatches('7', '"7"'), 'an unquoted tag is not the tag')
})

t.test('the REST routes answer 304 by that rule', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  for (const url of ['/v1/rates', '/v1/rates/KZT', '/v1/rates?symbols=KZT']) {
    const etag = (await app.inject(url)).headers.etag as string
    for (const header of [etag, `W/${etag}`, `"0", ${etag}`, '*']) {
      t.equal((await app.inject({ url, headers: { 'if-none-match': header } })).statusCode, 304, `${url} ${header}`)
    }
    t.equal((await app.inject({ url, headers: { 'if-none-match': '"0"' } })).statusCode, 200, `${url} other tag`)
  }
})
