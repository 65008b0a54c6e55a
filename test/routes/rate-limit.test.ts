import t from 'tap'
import { build } from '../support/build.js'
import { fiveRates, publishInput } from '../support/snapshot.js'

// spellings the router decodes or normalises to a /v1 REST route
const ROUTED = [
  '/%761/rates',
  '/%76%31/rates',
  '/%761/rates?',
  '/v1/%72ates',
  '/v1/%72%61tes',
  '/v1/rates?',
  '/v1/rates?#',
  '/v1/rates?symbols=KZT&',
  '/v1/rates/%4B%5A%54',
  '/v1/rates/%4b%5a%54',
  '/%76%31/%72%61%74%65%73/%4B%5A%54',
  '/v1/h%69story/KZT',
  '/v1/%68%69%73%74%6F%72%79/KZT',
  '/v1/./rates',
  '/v1/x/../rates'
]
// spellings that reach no REST route: they may be anything but a served snapshot
const UNROUTED = ['//v1/rates', '/v1//rates', '/%2Fv1/rates', '/v1%2Frates', '/V1/rates', '/v1/%72ATES']

t.test('every spelling of a /v1 REST path spends the same per-address budget', async (t) => {
  const app = await build(t, { env: { FX_RATE_LIMIT_PER_MIN: '1' } })
  await app.store.publish(publishInput(fiveRates()))
  for (const [i, url] of ROUTED.entries()) {
    const remoteAddress = `198.51.100.${i + 1}`
    const plain = await app.inject({ url: '/v1/rates', remoteAddress })
    t.equal(plain.statusCode, 200, `${url}: the budget of one request is spent`)
    const spelled = await app.inject({ url, remoteAddress })
    t.equal(spelled.statusCode, 429, `${url} is limited like /v1/rates`)
    t.match(spelled.json(), { error: 'RATES_RATE_LIMITED' }, url)
  }
  for (const [i, url] of ROUTED.entries()) {
    const remoteAddress = `203.0.113.${i + 1}`
    const spelled = await app.inject({ url, remoteAddress })
    t.equal(spelled.statusCode, 200, `${url} is served once`)
    t.equal((await app.inject({ url: '/v1/rates', remoteAddress })).statusCode, 429, `${url} spent the budget`)
  }
  for (const [i, url] of UNROUTED.entries()) {
    const remoteAddress = `192.0.2.${i + 1}`
    await app.inject({ url: '/v1/rates', remoteAddress })
    const res = await app.inject({ url, remoteAddress })
    t.not(res.statusCode, 200, `${url} serves nothing past the limit`)
    t.match(res.json(), { error: /^RATES_/ }, url)
  }
})

t.test('HEAD of a REST route is limited too; probes, documents, the widget and push endpoints are not', async (t) => {
  const app = await build(t, { env: { FX_RATE_LIMIT_PER_MIN: '2' } })
  await app.store.publish(publishInput(fiveRates()))
  t.equal((await app.inject({ method: 'HEAD', url: '/v1/rates' })).statusCode, 200)
  t.equal((await app.inject({ method: 'HEAD', url: '/v1/%72ates' })).statusCode, 200)
  t.equal((await app.inject({ method: 'HEAD', url: '/%761/rates' })).statusCode, 429)
  for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/asyncapi.json', '/', '/v1/ws']) {
    for (let i = 0; i < 3; i++) {
      const res = await app.inject(url)
      t.not(res.statusCode, 429, `${url} is not rate limited`)
      t.notOk(res.headers['x-ratelimit-limit'], `${url} carries no REST limit headers`)
    }
  }
})
