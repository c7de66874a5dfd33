/**
 * @module The figures behind the editor's charts (GET /api/metrics/summary): per-minute buckets of the last
 * 24 hours, kept in memory by each runtime process (Prometheus keeps the long history).
 */
import type { ErrorCategory } from '../model/types.ts'
import type { ReceiveOutcome } from './metrics.ts'

const MINUTE_MS = 60_000
const KEEP_MINUTES = 24 * 60
/** Ack latencies sampled per minute and flow: enough for percentiles, bounded in memory. */
const ACK_SAMPLES = 512

interface Bucket {
  received: number
  accepted: number
  duplicates: number
  schemaRejects: number
  signatureRejects: number
  otherRejects: number
  ackMs: number[]
  retries: number
  completed: number
  dead: number
  errors: Partial<Record<ErrorCategory, number>>
}

export interface WindowFigures {
  window: string
  received: number
  perSecond: number
  ackMs: { p50: number | null; p90: number | null; p99: number | null }
  retryRate: number
  dedupeRate: number
  schemaRejectRate: number
  signatureRejectRate: number
  completed: number
  dead: number
  errorsByCategory: Partial<Record<ErrorCategory, number>>
}

export interface MetricsSummary {
  at: string
  flow: string | null
  windows: WindowFigures[]
  /** The last 60 minutes, one point a minute, for charts. */
  series: Array<{
    minute: string
    received: number
    accepted: number
    ackP99: number | null
    retries: number
    errors: number
  }>
}

const WINDOWS: Array<[string, number]> = [
  ['5m', 5],
  ['1h', 60],
  ['24h', KEEP_MINUTES],
]

function emptyBucket(): Bucket {
  return {
    received: 0,
    accepted: 0,
    duplicates: 0,
    schemaRejects: 0,
    signatureRejects: 0,
    otherRejects: 0,
    ackMs: [],
    retries: 0,
    completed: 0,
    dead: 0,
    errors: {},
  }
}

export class RecentFigures {
  /** minute → flow → bucket */
  private readonly minutes = new Map<number, Map<string, Bucket>>()

  recordAnswer(flow: string, outcome: ReceiveOutcome, ackMs: number, nowMs: number): void {
    const bucket = this.bucket(flow, nowMs)
    bucket.received++
    if (outcome === 'accepted') bucket.accepted++
    else if (outcome === 'duplicate') bucket.duplicates++
    else if (outcome === 'schema_reject') bucket.schemaRejects++
    else if (outcome === 'invalid_signature') bucket.signatureRejects++
    else bucket.otherRejects++
    if (bucket.ackMs.length < ACK_SAMPLES) bucket.ackMs.push(ackMs)
    else bucket.ackMs[Math.floor(Math.random() * ACK_SAMPLES)] = ackMs
  }

  recordRetry(flow: string, nowMs: number): void {
    this.bucket(flow, nowMs).retries++
  }

  recordError(flow: string, category: ErrorCategory, nowMs: number): void {
    const bucket = this.bucket(flow, nowMs)
    bucket.errors[category] = (bucket.errors[category] ?? 0) + 1
  }

  recordSettled(flow: string, status: 'completed' | 'dead', nowMs: number): void {
    const bucket = this.bucket(flow, nowMs)
    if (status === 'completed') bucket.completed++
    else bucket.dead++
  }

  summary(nowMs: number, flow?: string): MetricsSummary {
    const current = Math.floor(nowMs / MINUTE_MS)
    const windows = WINDOWS.map(([name, minutes]) =>
      this.window(name, this.collect(current - minutes + 1, current, flow), minutes),
    )
    const series: MetricsSummary['series'] = []
    for (let minute = current - 59; minute <= current; minute++) {
      const merged = this.collect(minute, minute, flow)
      series.push({
        minute: new Date(minute * MINUTE_MS).toISOString(),
        received: merged.received,
        accepted: merged.accepted,
        ackP99: percentile(merged.ackMs, 0.99),
        retries: merged.retries,
        errors: Object.values(merged.errors).reduce((a, b) => a + (b ?? 0), 0),
      })
    }
    return { at: new Date(nowMs).toISOString(), flow: flow ?? null, windows, series }
  }

  private window(name: string, b: Bucket, minutes: number): WindowFigures {
    const rate = (n: number) => (b.received === 0 ? 0 : n / b.received)
    const processed = b.completed + b.dead + b.retries
    return {
      window: name,
      received: b.received,
      perSecond: b.received / (minutes * 60),
      ackMs: { p50: percentile(b.ackMs, 0.5), p90: percentile(b.ackMs, 0.9), p99: percentile(b.ackMs, 0.99) },
      retryRate: processed === 0 ? 0 : b.retries / processed,
      dedupeRate: rate(b.duplicates),
      schemaRejectRate: rate(b.schemaRejects),
      signatureRejectRate: rate(b.signatureRejects),
      completed: b.completed,
      dead: b.dead,
      errorsByCategory: b.errors,
    }
  }

  private collect(from: number, to: number, flow: string | undefined): Bucket {
    const total = emptyBucket()
    for (const [minute, flows] of this.minutes) {
      if (minute < from || minute > to) continue
      for (const [id, b] of flows) {
        if (flow !== undefined && id !== flow) continue
        total.received += b.received
        total.accepted += b.accepted
        total.duplicates += b.duplicates
        total.schemaRejects += b.schemaRejects
        total.signatureRejects += b.signatureRejects
        total.otherRejects += b.otherRejects
        total.ackMs.push(...b.ackMs)
        total.retries += b.retries
        total.completed += b.completed
        total.dead += b.dead
        for (const [category, n] of Object.entries(b.errors) as Array<[ErrorCategory, number]>) {
          total.errors[category] = (total.errors[category] ?? 0) + n
        }
      }
    }
    return total
  }

  private bucket(flow: string, nowMs: number): Bucket {
    const minute = Math.floor(nowMs / MINUTE_MS)
    let flows = this.minutes.get(minute)
    if (!flows) {
      flows = new Map()
      this.minutes.set(minute, flows)
      for (const old of this.minutes.keys()) if (old <= minute - KEEP_MINUTES) this.minutes.delete(old)
    }
    let bucket = flows.get(flow)
    if (!bucket) {
      bucket = emptyBucket()
      flows.set(flow, bucket)
    }
    return bucket
  }
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number) * 1000) / 1000
}
