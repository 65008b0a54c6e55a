import type { IncomingMessage, ServerResponse } from 'node:http'
import { fixture } from '../support/fixture-server.js'

export type TransportFault = 'refused' | 'reset' | 'no-headers' | 'drip' | 'oversize' | 'http-error' | 'html' | 'truncated' | 'encoding' | 'empty'

/** A recorded answer of the clean replay server. */
export interface Clean { status: number, type: string, body: Buffer }

const ERROR_PAGE = fixture('nbkr/error-502.html')
const INTERSTITIAL = fixture('cbr/ddos-guard.html')
const HTTP_ERRORS = [404, 429, 500, 502, 503]

/** The wire-level faults. Bodies that end are still the real payload, cut or wrapped, so only the fault is wrong. */
export function misbehave (kind: TransportFault, req: IncomingMessage, res: ServerResponse, type: string, body: Buffer, n: number, options: { dripMs: number, maxBytes: number }): void {
  switch (kind) {
    case 'refused':
    case 'no-headers':
      return // the request is read and never answered
    case 'reset':
      res.writeHead(200, { 'content-type': type, 'content-length': body.length })
      res.write(body.subarray(0, body.length >> 1), () => { req.socket.resetAndDestroy() })
      return
    case 'drip': {
      res.writeHead(200, { 'content-type': type })
      let i = 0
      const timer = setInterval(() => { res.write(i < body.length ? body.subarray(i, ++i) : ' ') }, options.dripMs)
      res.once('close', () => clearInterval(timer))
      return
    }
    case 'oversize': {
      // every other answer declares its length; the rest must be cut while streaming
      const total = options.maxBytes * 2
      res.writeHead(200, { 'content-type': type, ...(n % 2 === 0 && { 'content-length': total }) })
      res.write(body)
      const pad = Buffer.alloc(16_384, ' ')
      let sent = body.length
      const pump = (): void => {
        while (sent < total && !res.destroyed) {
          const chunk = pad.subarray(0, Math.min(pad.length, total - sent))
          sent += chunk.length
          if (!res.write(chunk)) { res.once('drain', pump); return }
        }
        if (!res.destroyed) res.end()
      }
      pump()
      return
    }
    case 'http-error':
      res.writeHead(HTTP_ERRORS[n % HTTP_ERRORS.length] as number, { 'content-type': 'text/html' }).end(ERROR_PAGE)
      return
    case 'html':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(INTERSTITIAL)
      return
    case 'truncated':
      res.writeHead(200, { 'content-type': type }).end(body.subarray(0, Math.floor(body.length * 0.6)))
      return
    case 'encoding':
      res.writeHead(200, { 'content-type': `${type.split(';')[0] ?? 'text/plain'}; charset=utf-16be` }).end(body)
      return
    case 'empty':
      res.writeHead(200, { 'content-type': type, 'content-length': 0 }).end()
  }
}
