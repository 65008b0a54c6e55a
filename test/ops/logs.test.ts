import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { NO_COVERAGE, ROOT } from '../support/process.js'
import { until } from '../support/until.js'

t.test('the service process logs levels as words and stays quiet under probes', async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'fx-logs-test-'))
  t.teardown(() => rmSync(state, { recursive: true, force: true }))
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'server.ts')], {
    cwd: ROOT,
    // one source pointed at a closed port: a failed poll is a line worth having, at warn
    env: { ...NO_COVERAGE, PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', LOG_SLOW_REQUEST_MS: '60000', FX_STATE_DIR: state, FX_SOURCES: 'nbk', FX_SOURCE_NBK_URL: 'http://127.0.0.1:9/nbk' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit')
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const lines: string[] = []
  child.stdout.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter((l) => l !== '')))
  child.stderr.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter((l) => l !== '')))
  const url = await until(() => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(lines.join('\n'))?.[1], { timeoutMs: 30_000, what: 'the service to listen' })
  await until(() => lines.some((l) => l.includes('source poll failed')), { timeoutMs: 30_000, what: 'the failed poll' })
  const before = lines.length
  for (const path of ['/healthz', '/readyz', '/metrics', '/healthz']) await (await fetch(`${url}${path}`)).arrayBuffer()
  const during = lines.slice(before).filter((l) => !l.includes('source poll failed'))
  t.same(during, [], 'probes and scrapes add no line at info')
  child.kill('SIGTERM')
  await exited
  // Node's own warnings (stderr) are not the service's log
  const parsed = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: unknown, msg: string })
  t.ok(parsed.some((l) => l.level === 'info' && l.msg.startsWith('Server listening')), 'start-up at info')
  t.ok(parsed.some((l) => l.level === 'warn' && l.msg === 'source poll failed'), 'the failed poll at warn')
  for (const l of parsed) t.type(l.level, 'string', `"${l.msg}" has a level word`)
})
