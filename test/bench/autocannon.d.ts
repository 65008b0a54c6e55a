// The part of autocannon's programmatic API the load generator uses (the package ships no types).
declare module 'autocannon' {
  interface Options { url: string, headers?: Record<string, string>, connections?: number, duration?: number, timeout?: number }
  interface Result {
    duration: number
    errors: number
    timeouts: number
    latency: { p50: number, p99: number }
    statusCodeStats?: Record<string, { count: number }>
  }
  export default function autocannon (opts: Options): Promise<Result>
}
