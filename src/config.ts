import { z } from 'zod'
import { RatesError } from './domain/errors.js'
import { CurrencySchema } from './domain/rate.js'
import { HOME_SOURCE, SOURCE_IDS, isSourceId } from './domain/sources.js'
import type { SourceId } from './domain/sources.js'
import type { HubLimits } from './domain/limits.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const csv = (text: string): string[] => text.split(',').map((s) => s.trim()).filter((s) => s !== '')

// the digits pattern makes it whole; the upper bound (at most MAX_SAFE_INTEGER) makes it exact
const int = (min: number, max = Number.MAX_SAFE_INTEGER, maxMessage = `expected at most ${max}`): z.ZodType<number> =>
  z.string().trim().regex(/^\d+$/, 'expected a whole number').transform(Number)
    .pipe(z.number().min(min, `expected at least ${min}`).max(max, maxMessage)) as unknown as z.ZodType<number>

// Node runs a timer whose delay exceeds this after 1 ms instead: a huge interval would become a tight loop
const MAX_TIMER_MS = 2 ** 31 - 1

/** A duration that ends up in a timer, directly or as `factor` times itself. */
const ms = (min: number, factor = 1, why = 'the longest delay a Node timer can hold'): z.ZodType<number> => {
  const max = Math.floor(MAX_TIMER_MS / factor)
  return int(min, max, `expected at most ${max} ms (${why})`)
}

const BASES = Object.keys(HOME_SOURCE)

const httpUrl = z.string().trim().url('expected an absolute http(s) URL')
  .refine((u) => /^https?:\/\//i.test(u), 'expected an http:// or https:// URL')

/** The environment variables the service reads, with defaults. The single reader of configuration. */
const EnvSchema = z.object({
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(8080),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  LOG_SLOW_REQUEST_MS: int(1).default(1000),
  FX_CURRENCIES: z.string().default('KGS,KZT,TJS,UZS,TMT').transform(csv)
    .pipe(z.array(z.string().toUpperCase().pipe(CurrencySchema)
      .refine((c) => BASES.includes(c), `expected currencies among ${BASES.join(', ')}: the ones with a home bank and sources`))
      .min(1, 'expected at least one currency')
      .refine((a) => new Set(a).size === a.length, 'expected no duplicate currency')),
  FX_QUOTE: z.string().trim().toUpperCase().default('USD')
    .pipe(z.literal('USD', { message: 'expected USD: every source is reconciled in US dollars' })),
  FX_SOURCES: z.string().default(SOURCE_IDS.join(',')).transform(csv)
    .pipe(z.array(z.string().toLowerCase().refine(isSourceId, { message: `expected source ids among ${SOURCE_IDS.join(', ')}` }))
      .min(1, 'expected at least one source')),
  FX_POLL_INTERVAL_MS: ms(50, 1.1, 'a poll is rescheduled after up to +10 % jitter, and a Node timer holds at most 2147483647 ms').default(300_000),
  // an age compared with the clock, never a timer delay: years are fine (tests run old recordings as fresh)
  FX_STALE_AFTER_MS: int(1000, 3_153_600_000_000, 'expected at most 3153600000000 ms (100 years)').default(345_600_000),
  FX_OUTLIER_PCT: z.string().trim().regex(/^\d+(\.\d+)?$/, 'expected a percentage such as 1.5').transform(Number)
    .pipe(z.number().gt(0, 'expected more than 0').max(50, 'expected at most 50')).default(1.5),
  FX_STATE_DIR: z.string().trim().min(1).default('./data'),
  FX_HISTORY_DAYS: int(0, 3660, 'expected at most 3660 (ten years)').default(400),
  FX_HISTORY_PACE_MS: ms(0).default(1000),
  FX_HTTP_TIMEOUT_MS: ms(100, 2, 'a poll of up to two requests ends within twice it, and a Node timer holds at most 2147483647 ms').default(15_000),
  FX_HTTP_MAX_BYTES: int(1024).default(2_000_000),
  FX_USER_AGENT: z.string().trim().min(1)
    .default('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 fx-ticker/0.1'),
  REDIS_URL: z.string().trim().url('expected a redis:// or rediss:// URL')
    .refine((u) => /^rediss?:\/\//i.test(u), 'expected a redis:// or rediss:// URL').optional(),
  FX_LEADER_LOCK_MS: ms(500).default(15_000),
  FX_LEADER_RENEW_MS: ms(100).default(5_000),
  FX_RATE_LIMIT_PER_MIN: int(0).default(1200),
  FX_TRUST_PROXY: z.string().trim().default('false')
    .refine((v) => /^(true|false|\d+)$/.test(v) || v.split(',').every((a) => /^[\d.:a-fA-F]+(\/\d+)?$/.test(a.trim())),
      'expected true, false, a number of proxy hops, or comma-separated proxy addresses/CIDRs')
    .transform((v): boolean | number | string[] => v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : csv(v)),
  CORS_ORIGINS: z.string().default('*').transform(csv)
    .pipe(z.array(z.string().refine((o) => o === '*' || /^https?:\/\/[^/]+$/i.test(o), 'expected * or origins such as https://news.example.com'))
      .min(1, 'expected * or a list of origins')),
  WS_MAX_PAYLOAD: int(64, 1_048_576).default(4096),
  WS_MAX_MESSAGES_PER_SEC: int(1).default(10),
  WS_MAX_BUFFERED_BYTES: int(4096).default(1_048_576),
  WS_MAX_CONNECTIONS_PER_IP: int(1).default(200),
  WS_MAX_CONNECTIONS: int(1).default(50_000),
  WS_HEARTBEAT_MS: ms(100).default(25_000),
  WS_PING_MS: ms(100).default(30_000),
  FX_SHUTDOWN_RETRY_MS: ms(0).default(30_000)
})

/** Typed configuration; the rest of the service never reads the environment. */
export interface Config {
  host: string
  port: number
  logLevel: typeof LOG_LEVELS[number]
  /** Requests slower than this are logged at warn; the rest of the access log is at debug. */
  slowRequestMs: number
  currencies: string[]
  quote: string
  sources: SourceId[]
  /** Origin overrides from FX_SOURCE_<ID>_URL. */
  sourceUrls: Partial<Record<SourceId, string>>
  pollIntervalMs: number
  staleAfterMs: number
  outlierPct: number
  stateDir: string
  /** How many days back history is backfilled from the dated archives and served (0: no backfill). */
  historyDays: number
  /** The least time between two archive requests to one source. */
  historyPaceMs: number
  httpTimeoutMs: number
  httpMaxBytes: number
  userAgent: string
  redisUrl: string | undefined
  leaderLockMs: number
  leaderRenewMs: number
  /** REST requests per minute per client address under /v1 (0: no limit). */
  rateLimitPerMin: number
  /** Which proxies' X-Forwarded-For to believe (client address for logs and per-IP limits). */
  trustProxy: boolean | number | string[]
  corsOrigins: string[]
  /** The push hub's bounds (WS_* variables). */
  ws: HubLimits
  /** Upper bound of the jittered reconnect hint sent to clients on shutdown. */
  shutdownRetryMs: number
}

/** The variable name of a source's origin override: open-er-api -> FX_SOURCE_OPEN_ER_API_URL. */
export function sourceUrlVariable (id: SourceId): string {
  return `FX_SOURCE_${id.toUpperCase().replace(/-/g, '_')}_URL`
}

/** Parses the environment once; throws RATES_CONFIG whose message has one line per bad variable. */
export function loadConfig (env: Record<string, string | undefined>): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const lines: string[] = []
  const parsed = EnvSchema.safeParse(clean)
  if (!parsed.success) {
    // one line per variable, however many of its checks or list items failed
    const messages = new Map<PropertyKey, Set<string>>()
    for (const issue of parsed.error.issues) {
      const key = issue.path[0] ?? 'environment'
      messages.set(key, (messages.get(key) ?? new Set()).add(issue.message))
    }
    for (const [key, set] of messages) lines.push(`${String(key)}: ${[...set].join('; ')}${valueHint(clean, key)}`)
  }
  const sourceUrls: Partial<Record<SourceId, string>> = {}
  for (const id of SOURCE_IDS) {
    const name = sourceUrlVariable(id)
    const value = clean[name]
    if (value === undefined) continue
    const url = httpUrl.safeParse(value)
    if (url.success) sourceUrls[id] = url.data
    else lines.push(`${name}: ${url.error.issues[0]?.message ?? 'invalid'} (got ${JSON.stringify(value)})`)
  }
  for (const name of Object.keys(clean)) {
    if (/^FX_SOURCE_.+_URL$/.test(name) && !SOURCE_IDS.some((id) => sourceUrlVariable(id) === name)) {
      lines.push(`${name}: unknown source; expected one of ${SOURCE_IDS.map(sourceUrlVariable).join(', ')}`)
    }
  }
  if (parsed.success && parsed.data.FX_LEADER_RENEW_MS * 2 > parsed.data.FX_LEADER_LOCK_MS) {
    lines.push('FX_LEADER_RENEW_MS: expected at most half of FX_LEADER_LOCK_MS, so the lock is renewed well within its lifetime')
  }
  if (!parsed.success || lines.length > 0) {
    throw new RatesError('RATES_CONFIG', lines.join('\n'), 500)
  }
  const e = parsed.data
  return {
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    slowRequestMs: e.LOG_SLOW_REQUEST_MS,
    currencies: e.FX_CURRENCIES,
    quote: e.FX_QUOTE,
    sources: [...new Set(e.FX_SOURCES)] as SourceId[],
    sourceUrls,
    pollIntervalMs: e.FX_POLL_INTERVAL_MS,
    staleAfterMs: e.FX_STALE_AFTER_MS,
    outlierPct: e.FX_OUTLIER_PCT,
    stateDir: e.FX_STATE_DIR,
    historyDays: e.FX_HISTORY_DAYS,
    historyPaceMs: e.FX_HISTORY_PACE_MS,
    httpTimeoutMs: e.FX_HTTP_TIMEOUT_MS,
    httpMaxBytes: e.FX_HTTP_MAX_BYTES,
    userAgent: e.FX_USER_AGENT,
    redisUrl: e.REDIS_URL,
    leaderLockMs: e.FX_LEADER_LOCK_MS,
    leaderRenewMs: e.FX_LEADER_RENEW_MS,
    rateLimitPerMin: e.FX_RATE_LIMIT_PER_MIN,
    trustProxy: e.FX_TRUST_PROXY,
    corsOrigins: e.CORS_ORIGINS,
    ws: {
      maxPayload: e.WS_MAX_PAYLOAD,
      maxMessagesPerSec: e.WS_MAX_MESSAGES_PER_SEC,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      maxConnectionsPerIp: e.WS_MAX_CONNECTIONS_PER_IP,
      maxConnections: e.WS_MAX_CONNECTIONS,
      heartbeatMs: e.WS_HEARTBEAT_MS,
      pingMs: e.WS_PING_MS
    },
    shutdownRetryMs: e.FX_SHUTDOWN_RETRY_MS
  }
}

function valueHint (env: Record<string, string | undefined>, key: PropertyKey | undefined): string {
  if (typeof key !== 'string' || env[key] === undefined) return ''
  return ` (got ${JSON.stringify(env[key])})`
}
