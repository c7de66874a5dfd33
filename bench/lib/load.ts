/** @module One autocannon run over a cycling set of signed deliveries, summarised. */
import autocannon from 'autocannon'
import type { SignedEvent } from './events.ts'

export interface LoadOptions {
  url: string
  connections: number
  durationSec: number
  /** The next delivery to send; called once per request, in order across all connections. */
  next: () => SignedEvent
}

export interface LoadResult {
  /** Requests per second (autocannon's per-second average). */
  rps: number
  p50: number
  p99: number
  max: number
  total: number
  non2xx: number
  errors: number
  timeouts: number
  byStatus: Record<string, number>
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
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
