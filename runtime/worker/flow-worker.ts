/**
 * @module Workers: lease queued work, run it on the flow version it started with, record every attempt,
 * reschedule retriable failures durably, and send what no edge takes to the dead letters.
 */
import type { FlowRegistry } from '../deploy/flow-registry.ts'
import { runWork } from '../engine/run.ts'
import type { EngineEvent, EngineServices } from '../engine/types.ts'
import type { EventBus } from '../server/event-bus.ts'
import type { Logger } from '../server/logger.ts'
import type { RuntimeMetrics } from '../server/metrics.ts'
import type { RecentFigures } from '../server/recent-figures.ts'
import type { Store, WorkItem } from '../store/store.ts'

export const DEFAULT_LEASE_MS = 30_000
export const DEFAULT_WORKER_CONCURRENCY = 32
/** How long a worker that found only a few items lets new ones gather before its next lease. */
const LEASE_GATHER_MS = 2
/** An idle worker looks at the queue at least this often, for work another process queued. */
const IDLE_POLL_MS = 1_000
/** How often one process lets a work item fail outside any node before it dead-letters it. */
export const MAX_UNEXPECTED_FAILURES = 3
/** Leases of running work are renewed every third of the lease, but not more often than this … */
const MIN_LEASE_RENEWAL_MS = 1_000

/** … unless the lease is so short (tests) that a renewal a second apart could land after it expired. */
export function leaseRenewalMs(leaseMs: number): number {
  return Math.min(Math.max(leaseMs / 3, MIN_LEASE_RENEWAL_MS), leaseMs / 2)
}

export interface WorkerOptions {
  owner: string
  leaseMs?: number
  concurrency?: number
}

export class FlowWorker {
  private running = false
  private inFlight = new Set<Promise<void>>()
  private wakeUp: (() => void) | undefined
  private loop: Promise<void> | undefined
  private readonly leaseMs: number
  private readonly concurrency: number
  /** Items that failed outside any node in this process, by id: see failedUnexpectedly. */
  private readonly unexpectedFailures = new Map<string, number>()
  /** Running items whose leases are renewed: until the write that finishes them starts. */
  private readonly held = new Set<WorkItem>()
  private renewalTimer: ReturnType<typeof setTimeout> | undefined
  private renewal: Promise<void> | undefined

  constructor(
    private readonly deps: {
      store: Store
      registry: FlowRegistry
      services: EngineServices
      metrics: RuntimeMetrics
      figures: RecentFigures
      bus: EventBus
      logger: Logger
    },
    private readonly options: WorkerOptions,
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    this.concurrency = options.concurrency ?? DEFAULT_WORKER_CONCURRENCY
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  /** New work was queued here: stop waiting. */
  wake(): void {
    this.wakeUp?.()
  }

  /** Stops leasing, lets running items finish, and gives back what is still leased. */
  async stop(): Promise<void> {
    this.running = false
    this.wake()
    await this.loop
    await Promise.allSettled(this.inFlight)
    clearTimeout(this.renewalTimer)
    this.renewalTimer = undefined
    await this.renewal
    await this.deps.store.releaseLeases(this.options.owner)
  }

  private async run(): Promise<void> {
    while (this.running) {
      const room = this.concurrency - this.inFlight.size
      let items: WorkItem[] = []
      if (room > 0) {
        try {
          items = await this.deps.store.lease(
            this.options.owner,
            room,
            this.leaseMs,
            new Date(this.deps.services.now()),
          )
        } catch (error) {
          this.deps.logger.error({ err: error }, 'leasing work failed')
        }
      }
      for (const item of items) this.track(this.hold(item))
      if (items.length === 0 || this.inFlight.size >= this.concurrency) await this.idle()
      // A lease is a write: under a stream of new events, gather a few before asking again, so that the
      // writer commits leases of many items instead of one per event.
      else if (items.length < room) await new Promise((resolve) => setTimeout(resolve, LEASE_GATHER_MS))
    }
  }

  private track(job: Promise<void>): void {
    this.inFlight.add(job)
    job.finally(() => {
      this.inFlight.delete(job)
      this.wake()
    })
  }

  /** Runs an item, renewing its lease meanwhile, so that slow work (a long http call) is not leased again. */
  private async hold(item: WorkItem): Promise<void> {
    this.held.add(item)
    this.scheduleRenewal()
    try {
      await this.process(item)
    } finally {
      this.letGo(item)
    }
  }

  /** The write that finishes an item (complete, retry) starts: renewing its lease is of no more use. */
  private letGo(item: WorkItem): void {
    this.held.delete(item)
    if (this.held.size === 0) {
      clearTimeout(this.renewalTimer)
      this.renewalTimer = undefined
    }
  }

  private scheduleRenewal(): void {
    if (this.renewalTimer !== undefined || this.renewal !== undefined || this.held.size === 0) return
    this.renewalTimer = setTimeout(() => {
      this.renewalTimer = undefined
      this.renewal = this.renewLeases().finally(() => {
        this.renewal = undefined
        this.scheduleRenewal()
      })
    }, leaseRenewalMs(this.leaseMs))
  }

  /** Renews the leases of every held item in one call; an item whose lease was lost is no longer renewed. */
  private async renewLeases(): Promise<void> {
    const items = [...this.held]
    const ids = [...new Set(items.map((item) => item.id))]
    let renewed: Set<string>
    try {
      const now = new Date(this.deps.services.now())
      renewed = new Set(await this.deps.store.extendLeases(this.options.owner, ids, this.leaseMs, now))
    } catch (error) {
      this.deps.logger.error({ err: error, items: ids.length }, 'renewing leases failed; trying again')
      return
    }
    for (const item of items) {
      if (renewed.has(item.id) || !this.held.has(item)) continue
      this.held.delete(item)
      this.deps.logger.warn(
        { eventId: item.eventId, flowId: item.flowId, node: item.node, workItem: item.id, attempt: item.attempt },
        'lease lost while the work ran: the store will refuse its result, and the item runs again',
      )
    }
  }

  private async idle(): Promise<void> {
    let waitMs = IDLE_POLL_MS
    if (this.inFlight.size < this.concurrency) {
      const due = await this.deps.store.nextDueAt().catch(() => undefined)
      if (due) waitMs = Math.min(IDLE_POLL_MS, Math.max(0, due.getTime() - this.deps.services.now()))
    }
    if (!this.running) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wakeUp = done
    })
    this.wakeUp = undefined
  }

  private async process(item: WorkItem): Promise<void> {
    const { store, registry, services, metrics, figures, bus, logger } = this.deps
    const log = logger.child({
      eventId: item.eventId,
      flowId: item.flowId,
      flowVersion: item.flowVersion,
      node: item.node,
    })
    try {
      const flow = await registry.version(item.flowId, item.flowVersion)
      const stored = item.event ?? (await store.getEvent(item.eventId))
      if (!stored) throw new Error(`event ${item.eventId} is gone`)
      const event: EngineEvent = {
        id: item.eventId,
        receivedAt: stored.receivedAt,
        flowId: item.flowId,
        flowVersion: item.flowVersion,
        headers: stored.headers,
        rawBody: stored.rawBody ?? '',
        payload: item.message.payload,
      }
      const started = performance.now()
      const run = await runWork(flow, event, { node: item.node, message: item.message }, item.attempt, services, {
        sideEffects: !stored.test,
      })
      const ms = performance.now() - started
      // Test-marked events are kept apart from the production figures; a canary's are told apart by version.
      const counted = !stored.test
      const version = String(item.flowVersion)
      if (run.retry) {
        this.letGo(item)
        await store.retry(item, {
          steps: run.steps,
          at: new Date(run.retry.at).toISOString(),
          attempt: run.retry.nextAttempt,
          error: run.retry.error,
          lineage: run.lineage,
          ...(run.retry.node === item.node ? {} : { resumeAt: { node: run.retry.node, message: run.retry.message } }),
        })
        if (counted) {
          metrics.retries.inc({ flow: item.flowId, node: run.retry.node })
          figures.recordRetry(item.flowId, services.now(), item.flowVersion)
        }
        bus.publish({ type: 'steps', eventId: item.eventId, flowId: item.flowId, steps: run.steps })
        log.warn(
          {
            attempt: item.attempt,
            nextAttemptAt: new Date(run.retry.at).toISOString(),
            error: run.retry.error.message,
            ms,
          },
          'attempt failed, retry scheduled',
        )
        return
      }
      this.letGo(item)
      await store.complete(item, {
        steps: run.steps,
        next: run.work,
        deadLetters: run.deadLetters,
        lineage: run.lineage,
      })
      for (const dead of run.deadLetters) {
        if (counted) {
          metrics.errors.inc({ flow: item.flowId, category: dead.error.category, version })
          figures.recordError(item.flowId, dead.error.category, services.now(), item.flowVersion)
        }
        log.error(
          { deadNode: dead.node, category: dead.error.category, error: dead.error.message },
          'event moved to the dead letters',
        )
      }
      bus.publish({ type: 'steps', eventId: item.eventId, flowId: item.flowId, steps: run.steps })
      if (run.work.length === 0) {
        const status = run.deadLetters.length > 0 ? 'dead' : 'completed'
        if (counted) {
          metrics.processingLatency.observe(
            { flow: item.flowId, status, version },
            (services.now() - Date.parse(stored.receivedAt)) / 1000,
          )
          figures.recordSettled(item.flowId, status, services.now(), item.flowVersion)
        }
      } else {
        this.wake()
      }
      log.info({ attempt: item.attempt, steps: run.steps.length, queued: run.work.length, ms }, 'work done')
    } catch (error) {
      await this.failedUnexpectedly(item, error, log)
    }
  }

  /**
   * A bug or a vanished flow version, not a node's error: the item stays leased and is tried again when its
   * lease expires. An item that keeps failing so would never settle, so after a few failures here it becomes
   * a dead letter (replayable once the cause is fixed) instead of holding its event in `processing` forever.
   */
  private async failedUnexpectedly(item: WorkItem, error: unknown, log: Logger): Promise<void> {
    const failures = (this.unexpectedFailures.get(item.id) ?? 0) + 1
    this.unexpectedFailures.set(item.id, failures)
    if (failures < MAX_UNEXPECTED_FAILURES) {
      log.error({ err: error, failures }, 'work item failed unexpectedly; it will be retried when its lease expires')
      return
    }
    this.unexpectedFailures.delete(item.id)
    this.letGo(item)
    const message = error instanceof Error ? error.message : String(error)
    try {
      await this.deps.store.complete(item, {
        steps: [],
        next: [],
        lineage: {},
        deadLetters: [
          {
            node: item.node,
            error: {
              category: 'non_retriable',
              message: `the runtime failed on this item ${failures} times: ${message}`,
              details: { unexpected: true },
            },
            message: item.message,
          },
        ],
      })
      log.error({ err: error, failures }, 'work item failed unexpectedly again: moved to the dead letters')
    } catch (storeError) {
      log.error({ err: storeError, cause: message }, 'work item failed unexpectedly and could not be dead-lettered')
    }
  }
}
