/** @module One load run over signed deliveries, summarised: wrk when installed (lighter), else autocannon in-process. */
import autocannon from 'autocannon'
import type { SignedEvent } from './events.ts'
import { findWrk, runWrk } from './wrk.ts'

export type Driver = 'wrk' | 'autocannon'

export interface LoadOptions {
  url: string
  connections: number
  durationSec: number
  /** The next delivery to send. autocannon: called once per request, in order across all connections. */
  next: () => SignedEvent
  /** wrk: how many deliveries to take from `next()` before the run (default 1,000); wrk then cycles through them. */
  prepare?: number
  /** Default: pickDriver(). */
  driver?: Driver
}

export interface LoadResult {
  driver: Driver
  /** Requests per second (autocannon: its per-second average; wrk: completed requests / run time). */
  rps: number
  p50: number
  p99: number
  max: number
  total: number
  non2xx: number
  errors: number
  timeouts: number
  byStatus: Record<string, number>
  /** wrk: how many distinct deliveries were prepared (requests beyond that repeat them). */
  prepared?: number
}

/** `--driver wrk|autocannon`, or without it wrk when found (/usr/bin/wrk or on PATH), else autocannon. */
export function pickDriver(flag?: string): Driver {
  if (flag === undefined) return findWrk() ? 'wrk' : 'autocannon'
  if (flag !== 'wrk' && flag !== 'autocannon') throw new Error(`--driver must be wrk or autocannon, not ${flag}`)
  if (flag === 'wrk' && !findWrk()) throw new Error('--driver wrk: wrk not found (apt-get install -y wrk)')
  return flag
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if ((options.driver ?? pickDriver()) === 'wrk') return await runWrk({ ...options, prepare: options.prepare ?? 1000 })
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSec,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        // One shared iterator, so the connections walk the prepared set together instead of each from its start.
        setupRequest: (request) => {
          const event = options.next()
          return { ...request, method: 'POST', headers: event.headers, body: event.body }
        },
      },
    ],
  })
  const byStatus: Record<string, number> = {}
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) byStatus[status] = Number(count)
  return {
    driver: 'autocannon',
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    byStatus,
  }
}

/**
 * One run against several processes at once (a load balancer's round robin, without a balancer's own cost):
 * the connections are split between the URLs, one driver per URL, all started together. Requests/s add up;
 * p50 is the median and p99/max the worst of the parts.
 */
export async function runLoadSpread(
  urls: readonly string[],
  options: Omit<LoadOptions, 'url' | 'next'> & { next: () => () => SignedEvent },
): Promise<LoadResult> {
  if (urls.length === 1) return await runLoad({ ...options, url: urls[0] as string, next: options.next() })
  const share = Math.max(1, Math.floor(options.connections / urls.length))
  const parts = await Promise.all(
    urls.map((url) => runLoad({ ...options, url, connections: share, next: options.next() })),
  )
  const byStatus: Record<string, number> = {}
  for (const part of parts)
    for (const [status, n] of Object.entries(part.byStatus)) byStatus[status] = (byStatus[status] ?? 0) + n
  const sum = (pick: (r: LoadResult) => number) => parts.reduce((total, r) => total + pick(r), 0)
  return {
    driver: parts[0]?.driver ?? 'wrk',
    rps: sum((r) => r.rps),
    p50: median(parts.map((r) => r.p50)),
    p99: Math.max(...parts.map((r) => r.p99)),
    max: Math.max(...parts.map((r) => r.max)),
    total: sum((r) => r.total),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    byStatus,
    ...(parts.every((r) => r.prepared !== undefined) ? { prepared: sum((r) => r.prepared ?? 0) } : {}),
  }
}

/** Cycles through `events`: the first `events.length` requests are all distinct. */
export function cycle(events: readonly SignedEvent[]): () => SignedEvent {
  let i = 0
  return () => events[i++ % events.length] as SignedEvent
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
