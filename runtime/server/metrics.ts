/** @module Prometheus metrics of the runtime (GET /metrics), one registry per runtime. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { QueueFigures } from '../store/store.ts'

/** Ack latency buckets: the answer to the sender should take milliseconds. */
const ACK_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1]
/** Gauges scraped together share one read of the queue figures. */
const SCRAPE_REUSE_MS = 250
const PROCESSING_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800]

export type ReceiveOutcome =
  | 'accepted'
  | 'duplicate'
  | 'invalid_signature'
  | 'schema_reject'
  | 'malformed_json'
  | 'too_large'
  | 'rate_limited'
  | 'backpressure'
  | 'not_found'
  | 'error'

/**
 * `version` is the flow version that ran the event, where it is known (not for a refusal before the version
 * was chosen): while a canary runs, the candidate's figures and the stable version's are told apart by it.
 */
export interface RuntimeMetrics {
  registry: Registry
  received: Counter<'flow' | 'outcome' | 'status' | 'version'>
  ackLatency: Histogram<'flow'>
  processingLatency: Histogram<'flow' | 'status' | 'version'>
  retries: Counter<'flow' | 'node'>
  dedupeHits: Counter<'flow'>
  schemaRejects: Counter<'flow'>
  errors: Counter<'flow' | 'category' | 'version'>
}

/**
 * `unreconciled` reads how many open events per flow are older than the reconciliation threshold (the
 * store's count, at scrape time); every process on a shared store reports the same figure.
 */
export function createMetrics(
  queueFigures: () => Promise<QueueFigures>,
  unreconciled: () => Promise<Map<string, number>> = async () => new Map(),
): RuntimeMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'mapper_' })
  // Queue gauges read the store only when scraped, once per scrape however many gauges ask.
  let scrape: { at: number; figures: Promise<QueueFigures> } | undefined
  const figuresNow = () => {
    const at = Date.now()
    if (!scrape || at - scrape.at > SCRAPE_REUSE_MS) scrape = { at, figures: queueFigures() }
    return scrape.figures
  }
  const queueGauge = (name: string, help: string, read: (figures: QueueFigures) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(read(await figuresNow()))
      },
    })
  queueGauge('mapper_queue_depth', 'Work items waiting or running', (f) => f.pending)
  queueGauge('mapper_queue_retrying', 'Work items waiting for a retry', (f) => f.retrying)
  queueGauge(
    'mapper_queue_oldest_due_seconds',
    'Age of the oldest due work item (queue lag)',
    (f) => f.oldestDueMs / 1000,
  )
  queueGauge('mapper_dead_letters', 'Events on the dead-letter list', (f) => f.deadLetters)
  new Gauge({
    name: 'mapper_unreconciled_events',
    help: 'Events accepted longer ago than the reconciliation threshold with no terminal state yet, by flow',
    labelNames: ['flow'],
    registers: [registry],
    async collect() {
      // A store that does not answer shows in mapper_queue_scrape_ok; this keeps its last figures meanwhile.
      const counts = await unreconciled().catch(() => undefined)
      if (!counts) return
      this.reset()
      for (const [flow, n] of counts) this.set({ flow }, n)
    },
  })
  new Gauge({
    name: 'mapper_queue_scrape_ok',
    help: '1 when the last scrape could read the queue figures',
    registers: [registry],
    async collect() {
      this.set(
        await figuresNow().then(
          () => 1,
          () => 0,
        ),
      )
    },
  })
  return {
    registry,
    received: new Counter({
      name: 'mapper_webhooks_received_total',
      help: 'Webhook deliveries received, by flow, outcome, answered status and the version that ran it',
      labelNames: ['flow', 'outcome', 'status', 'version'],
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: 'mapper_ack_latency_seconds',
      help: 'Time from request to answer',
      labelNames: ['flow'],
      buckets: ACK_BUCKETS,
      registers: [registry],
    }),
    processingLatency: new Histogram({
      name: 'mapper_processing_latency_seconds',
      help: 'Time from receipt to a terminal state (completed or dead)',
      labelNames: ['flow', 'status', 'version'],
      buckets: PROCESSING_BUCKETS,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'mapper_retries_total',
      help: 'Retries scheduled after a retriable failure',
      labelNames: ['flow', 'node'],
      registers: [registry],
    }),
    dedupeHits: new Counter({
      name: 'mapper_dedupe_hits_total',
      help: 'Deliveries answered as duplicates',
      labelNames: ['flow'],
      registers: [registry],
    }),
    schemaRejects: new Counter({
      name: 'mapper_schema_rejects_total',
      help: 'Deliveries refused by schema validation',
      labelNames: ['flow'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'mapper_errors_total',
      help: 'Step errors by category',
      labelNames: ['flow', 'category', 'version'],
      registers: [registry],
    }),
  }
}
