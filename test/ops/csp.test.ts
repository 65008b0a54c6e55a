import t from 'tap'
import { build } from '../support/build.js'

t.test('no page or resource asks the browser to upgrade to https; the rest of the policy stays', async (t) => {
  const app = await build(t)
  for (const url of ['/', '/widget.js', '/v1/rates', '/healthz', '/openapi.json', '/nope']) {
    const res = await app.inject({ url, headers: { host: 'fx.internal:8080' } })
    const csp = res.headers['content-security-policy']
    t.type(csp, 'string', `${url} has a policy`)
    t.notMatch(String(csp), /upgrade-insecure-requests/i, `${url}: no upgrade-insecure-requests`)
    t.match(String(csp), /default-src 'self'/, `${url}: default-src kept`)
    t.match(String(csp), /connect-src 'self' ws: wss:/, `${url}: push endpoints allowed`)
  }
})
