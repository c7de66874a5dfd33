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

/** One flow version's figures (while a canary runs, the candidate's beside the stable one's). */
export interface VersionFigures {
  version: number
  windows: WindowFigures[]
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
  /** minute → `flow@version` → bucket: the same figures again, split by the version that ran the event. */
  private readonly versionMinutes = new Map<number, Map<string, Bucket>>()

  /** `version`: the version that ran the delivery, when one was chosen (not for a refusal before that). */
  recordAnswer(flow: string, outcome: ReceiveOutcome, ackMs: number, nowMs: number, version?: number): void {
    this.countAnswer(this.bucket(flow, nowMs), outcome, ackMs)
    if (version !== undefined) this.countAnswer(this.versionBucket(flow, version, nowMs), outcome, ackMs)
  }

  private countAnswer(bucket: Bucket, outcome: ReceiveOutcome, ackMs: number): void {
    bucket.received++
    if (outcome === 'accepted') bucket.accepted++
    else if (outcome === 'duplicate') bucket.duplicates++
    else if (outcome === 'schema_reject') bucket.schemaRejects++
    else if (outcome === 'invalid_signature') bucket.signatureRejects++
    else bucket.otherRejects++
    if (bucket.ackMs.length < ACK_SAMPLES) bucket.ackMs.push(ackMs)
    else bucket.ackMs[Math.floor(Math.random() * ACK_SAMPLES)] = ackMs
  }

  recordRetry(flow: string, nowMs: number, version?: number): void {
    for (const bucket of this.buckets(flow, nowMs, version)) bucket.retries++
  }

  recordError(flow: string, category: ErrorCategory, nowMs: number, version?: number): void {
    for (const bucket of this.buckets(flow, nowMs, version))
      bucket.errors[category] = (bucket.errors[category] ?? 0) + 1
  }

  recordSettled(flow: string, status: 'completed' | 'dead', nowMs: number, version?: number): void {
    for (const bucket of this.buckets(flow, nowMs, version)) {
      if (status === 'completed') bucket.completed++
      else bucket.dead++
    }
  }

  /** A flow's figures per version asked for (zeros for a version that has none yet), in the same windows. */
  versionSummary(nowMs: number, flow: string, versions: readonly number[]): VersionFigures[] {
    const current = Math.floor(nowMs / MINUTE_MS)
    return versions.map((version) => ({
      version,
      windows: WINDOWS.map(([name, minutes]) =>
        this.window(
          name,
          this.collectFrom(this.versionMinutes, current - minutes + 1, current, versionKey(flow, version)),
          minutes,
        ),
      ),
    }))
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
    return this.collectFrom(this.minutes, from, to, flow)
  }

  private collectFrom(
    minutes: Map<number, Map<string, Bucket>>,
    from: number,
    to: number,
    flow: string | undefined,
  ): Bucket {
    const total = emptyBucket()
    for (const [minute, flows] of minutes) {
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

  private buckets(flow: string, nowMs: number, version: number | undefined): Bucket[] {
    const flowBucket = this.bucket(flow, nowMs)
    return version === undefined ? [flowBucket] : [flowBucket, this.versionBucket(flow, version, nowMs)]
  }

  private versionBucket(flow: string, version: number, nowMs: number): Bucket {
    return this.bucketIn(this.versionMinutes, versionKey(flow, version), nowMs)
  }

  private bucket(flow: string, nowMs: number): Bucket {
    return this.bucketIn(this.minutes, flow, nowMs)
  }

  private bucketIn(minutes: Map<number, Map<string, Bucket>>, flow: string, nowMs: number): Bucket {
    const minute = Math.floor(nowMs / MINUTE_MS)
    let flows = minutes.get(minute)
    if (!flows) {
      flows = new Map()
      minutes.set(minute, flows)
      for (const old of minutes.keys()) if (old <= minute - KEEP_MINUTES) minutes.delete(old)
    }
    let bucket = flows.get(flow)
    if (!bucket) {
      bucket = emptyBucket()
      flows.set(flow, bucket)
    }
    return bucket
  }
}

function versionKey(flow: string, version: number): string {
  return `${flow}@${version}`
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number) * 1000) / 1000
}
