import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'upstream')

/** Bytes of a shared upstream fixture, exactly as the source serves them. */
export function fixture (path: string): Buffer {
  return readFileSync(join(FIXTURES, path))
}

/** Text of a fixture decoded as UTF-8 or windows-1251. */
export function fixtureText (path: string, encoding: 'utf-8' | 'windows-1251' = 'utf-8'): string {
  return new TextDecoder(encoding).decode(fixture(path))
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

export interface FixtureServer {
  url: string
  close: () => Promise<void>
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** A node:http server on 127.0.0.1 port 0, closed when the test ends. */
export async function fixtureServer (t: Teardown, handler: Handler): Promise<FixtureServer> {
  const server = createServer(handler)
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const close = async (): Promise<void> => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  t.teardown(close)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close }
}

/** Answers with a fixture's bytes and content type. */
export function serve (res: ServerResponse, path: string, contentType: string, status = 200, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, ...headers })
  res.end(fixture(path))
}
