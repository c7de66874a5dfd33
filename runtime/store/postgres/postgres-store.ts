/**
 * @module The scale-out store: several runtime processes on one PostgreSQL database share the queue
 * (`FOR UPDATE SKIP LOCKED` leases), the dedupe claims (unique keys) and the flow versions, and hear each
 * other's new work and deploys (LISTEN/NOTIFY).
 *
 * Every method is one statement, or one transaction on one pooled connection; nothing is cached between
 * calls but when each token's last use was written, so any process may serve any request.
 */
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { canonicalJson } from '../../model/canonical-json.ts'
import type { FlowDocument } from '../../model/types.ts'
import type {
  AcceptedDelivery,
  AcceptResult,
  AuditEntry,
  CanaryDeployment,
  Deployment,
  EventDetail,
  EventFilter,
  EventRestart,
  EventStatus,
  FlowSummary,
  FlowVersionRecord,
  OperatorDeadLetterOutcome,
  Page,
  QueueFigures,
  RejectedDelivery,
  ReplayRun,
  ResumeOutcome,
  RetryPlan,
  Role,
  SecretSummary,
  Store,
  StoredDeadLetter,
  StoredEvent,
  StoredSecretValue,
  StoreNews,
  TokenRecord,
  UnreconciledEvent,
  UnreconciledFilter,
  WorkItem,
  WorkOutcome,
} from '../store.ts'
import { accept, recordRejection } from './accept.ts'
import * as admin from './admin.ts'
import { inReadSnapshot, inTransaction, openPool } from './connection.ts'
import * as flows from './flows.ts'
import { migrate } from './migrate.ts'
import { announceNow, NewsChannel, WorkNews } from './news.ts'
import * as queue from './queue.ts'
import * as reads from './reads.ts'
import * as reconcile from './reconcile.ts'
import { replayEvent } from './replay.ts'
import { purgeExpiredClaims, purgeRawPayloads } from './retention.ts'
import { toDate, toIso, tokenFromRow } from './rows.ts'

/** SPEC §3: a crashed process's leases expire after 30 s, so its work resumes within a minute. */
export const DEFAULT_LEASE_MS = 30_000

/** A token's last use is written at most this often: an API request must not cost a write. */
export const TOKEN_TOUCH_INTERVAL_MS = 60_000

export interface PostgresStoreOptions {
  /** `postgres://user@host:5432/database` (anything pg's connectionString takes). */
  url: string
  /** Lease length used when `lease()` is given no positive length; DEFAULT_LEASE_MS when absent. */
  leaseMs?: number
  /** Connections in this store's pool (the LISTEN connection is one more); DEFAULT_POOL_SIZE when absent. */
  poolSize?: number
  /** At most one `work` notification per this many ms (0: one per transaction); WORK_NEWS_INTERVAL_MS when absent. */
  workNewsIntervalMs?: number
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const
  private closing: Promise<void> | undefined
  /** Calls not yet answered: close() lets them finish before it ends the pool. */
  private readonly inFlight = new Set<Promise<unknown>>()
  /** When this process last wrote each token's last use (epoch ms). */
  private readonly tokenTouchedAt = new Map<string, number>()
  private news: NewsChannel | undefined

  private constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
    private readonly defaultLeaseMs: number,
    private readonly workNews: WorkNews,
    /** Migrations applied when this store opened (none when the database was up to date, or another process did). */
    readonly migrationsApplied: string[],
  ) {}

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = openPool(options.url, options.poolSize)
    try {
      const applied = await migrate(pool)
      const workNews = new WorkNews(options.workNewsIntervalMs)
      return new PostgresStore(options.url, pool, options.leaseMs ?? DEFAULT_LEASE_MS, workNews, applied)
    } catch (error) {
      await pool.end()
      throw error
    }
  }

  /**
   * Hears the news of every process on this database, its own included. The first call opens the LISTEN
   * connection; after it listens (and after every reconnect) the listener also hears one `work` and every
   * current deployment, which stand for whatever was announced while nothing listened.
   */
  subscribe(listener: (news: StoreNews) => void): () => void {
    if (this.closing) throw new Error('the store is closed')
    this.news ??= new NewsChannel(this.url, () => this.missedNews())
    return this.news.subscribe(listener)
  }

  /** Notifies every listening process now, on a pooled connection outside any transaction. */
  announce(news: StoreNews): Promise<void> {
    return this.statement((db) => announceNow(db, news))
  }

  /** Resolves once the news connection listens (after the first subscribe). */
  listening(): Promise<void> {
    if (!this.news) return Promise.reject(new Error('nothing subscribed: no connection listens'))
    return this.news.ready()
  }

  // --- flows

  saveFlowVersion(document: FlowDocument, savedBy: string | null): Promise<FlowVersionRecord> {
    const canonical = canonicalJson(document)
    const hash = createHash('sha256').update(canonical).digest('hex')
    return this.statement((db) =>
      flows.saveFlowVersion(db, { document, canonical, hash, savedBy, savedAt: new Date() }),
    )
  }

  getFlowVersion(flowId: string, version: number): Promise<FlowVersionRecord | undefined> {
    return this.statement((db) => flows.getFlowVersion(db, flowId, version))
  }

  latestFlowVersion(flowId: string): Promise<FlowVersionRecord | undefined> {
    return this.statement((db) => flows.latestFlowVersion(db, flowId))
  }

  listFlowVersions(flowId: string): Promise<Array<Omit<FlowVersionRecord, 'document'>>> {
    return this.statement((db) => flows.listFlowVersions(db, flowId))
  }

  listFlows(): Promise<FlowSummary[]> {
    return this.statement((db) => flows.listFlows(db))
  }

  deployFlow(flowId: string, version: number, canary?: CanaryDeployment): Promise<void> {
    return this.transaction((client) => flows.deployFlow(client, flowId, version, canary, new Date()))
  }

  deployedFlows(): Promise<Map<string, number>> {
    return this.statement((db) => flows.deployedFlows(db))
  }

  deployments(): Promise<Map<string, Deployment>> {
    return this.statement((db) => flows.deployments(db))
  }

  // --- ingest

  findClaim(scope: string, key: string, now: Date): Promise<string | undefined> {
    return this.statement((db) => reads.findClaim(db, scope, key, now))
  }

  accept(delivery: AcceptedDelivery): Promise<AcceptResult> {
    return this.transaction((client) => accept(client, delivery, this.workNews))
  }

  recordRejection(rejection: RejectedDelivery): Promise<void> {
    return this.transaction((client) => recordRejection(client, rejection))
  }

  // --- work

  lease(owner: string, max: number, leaseMs: number, now: Date): Promise<WorkItem[]> {
    const length = Number.isFinite(leaseMs) && leaseMs > 0 ? leaseMs : this.defaultLeaseMs
    return this.statement((db) => queue.lease(db, owner, max, length, now))
  }

  complete(item: WorkItem, outcome: WorkOutcome): Promise<void> {
    return this.transaction((client) => queue.complete(client, item, outcome, new Date(), this.workNews))
  }

  retry(item: WorkItem, plan: RetryPlan): Promise<void> {
    return this.transaction((client) => queue.retry(client, item, plan, new Date(), this.workNews))
  }

  extendLeases(owner: string, itemIds: string[], leaseMs: number, now: Date): Promise<string[]> {
    const length = Number.isFinite(leaseMs) && leaseMs > 0 ? leaseMs : this.defaultLeaseMs
    return this.statement((db) => queue.extendLeases(db, owner, itemIds, length, now))
  }

  releaseLeases(owner: string): Promise<number> {
    return this.transaction((client) => queue.releaseLeases(client, owner))
  }

  nextDueAt(): Promise<Date | undefined> {
    return this.statement((db) => queue.nextDueAt(db))
  }

  queueFigures(now: Date): Promise<QueueFigures> {
    return this.statement((db) => queue.queueFigures(db, now))
  }

  // --- events

  listEvents(filter: EventFilter): Promise<Page<StoredEvent>> {
    return this.statement((db) => reads.listEvents(db, filter))
  }

  getEvent(id: string): Promise<EventDetail | undefined> {
    return this.track(() => inReadSnapshot(this.pool, (client) => reads.getEvent(client, id)))
  }

  listDeadLetters(filter: {
    flow?: string
    ids?: string[]
    limit?: number
    cursor?: string
    includeReplayed?: boolean
  }): Promise<Page<StoredDeadLetter>> {
    return this.statement((db) => reads.listDeadLetters(db, filter))
  }

  // --- retention

  purgeRawPayloads(flowId: string, before: Date): Promise<number> {
    return this.statement((db) => purgeRawPayloads(db, flowId, before))
  }

  purgeExpiredClaims(now: Date): Promise<number> {
    return this.statement((db) => purgeExpiredClaims(db, now))
  }

  // --- tokens

  createToken(token: { id: string; name: string; role: Role; hash: string; createdBy: string | null }) {
    const { id, name, role, hash, createdBy } = token
    return this.statement((db) => admin.createToken(db, { id, name, role, hash, createdBy }, new Date()))
  }

  /**
   * One read; the use is written at most once a minute per token (TOKEN_TOUCH_INTERVAL_MS), by a write this
   * does not wait for, so authenticating a request costs no commit. Another process's recent write counts.
   */
  findToken(hash: string): Promise<TokenRecord | undefined> {
    return this.statement(async (db) => {
      const row = await admin.liveToken(db, hash)
      if (!row) return undefined
      const token = tokenFromRow(row)
      const now = Date.now()
      const last = Math.max(this.tokenTouchedAt.get(row.id) ?? 0, row.last_used_at?.getTime() ?? 0)
      if (now - last < TOKEN_TOUCH_INTERVAL_MS || this.closing) {
        return last > 0 ? { ...token, lastUsedAt: toIso(new Date(last)) } : token
      }
      this.tokenTouchedAt.set(row.id, now)
      this.statement((pool) => admin.touchToken(pool, row.id, new Date(now))).catch(() => {
        // Only a record of use: a failed one is tried again on the next request.
        if (this.tokenTouchedAt.get(row.id) === now) this.tokenTouchedAt.delete(row.id)
      })
      return { ...token, lastUsedAt: toIso(new Date(now)) }
    })
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.statement((db) => admin.listTokens(db))).map(tokenFromRow)
  }

  /** True when this revoked a live token; false when there is no such token or it was already revoked. */
  async revokeToken(id: string): Promise<boolean> {
    const revoked = await this.statement((db) => admin.revokeToken(db, id, new Date()))
    this.tokenTouchedAt.delete(id)
    return revoked
  }

  // --- secrets

  putSecret(secret: {
    name: string
    ciphertext: string
    fingerprint: string
    overlapSec: number
    by: string | null
  }): Promise<SecretSummary> {
    const { name, ciphertext, fingerprint, overlapSec, by } = secret
    return this.track(async () => {
      if (!Number.isFinite(overlapSec) || overlapSec < 0) {
        throw new RangeError(`secret ${name}: overlapSec must be a number of seconds >= 0, not ${overlapSec}`)
      }
      const overlapMs = Math.round(overlapSec * 1000)
      return inTransaction(this.pool, (client) =>
        admin.putSecret(client, { name, ciphertext, fingerprint, overlapMs, by }, new Date()),
      )
    })
  }

  secretValues(name: string, now: Date): Promise<StoredSecretValue[]> {
    return this.statement((db) => admin.secretValues(db, name, now))
  }

  listSecrets(now: Date): Promise<SecretSummary[]> {
    return this.statement((db) => admin.listSecrets(db, now))
  }

  // --- audit

  appendAudit(entry: Omit<AuditEntry, 'id' | 'at'> & { at?: string }): Promise<AuditEntry> {
    const details = JSON.stringify(entry.details ?? null) ?? 'null'
    const { actor, action, target } = entry
    return this.statement((db) => {
      const at = entry.at === undefined ? new Date() : toDate(entry.at)
      return admin.appendAudit(db, { at, actor, action, target, reason: entry.reason ?? null, details })
    })
  }

  listAudit(filter: { limit?: number; cursor?: string }): Promise<Page<AuditEntry>> {
    return this.statement((db) => admin.listAudit(db, filter))
  }

  // --- replay

  replayEvent(run: ReplayRun): Promise<{ status: EventStatus }> {
    return this.transaction((client) => replayEvent(client, run, this.workNews))
  }

  // --- reconciliation

  listUnreconciled(filter: UnreconciledFilter): Promise<Page<UnreconciledEvent>> {
    return this.track(() => inReadSnapshot(this.pool, (client) => reconcile.listUnreconciled(client, filter)))
  }

  countUnreconciled(olderThan: Date): Promise<Map<string, number>> {
    return this.statement((db) => reconcile.countUnreconciled(db, olderThan))
  }

  resumeEvent(eventId: string, resume: { at: string; restart?: EventRestart }): Promise<ResumeOutcome> {
    return this.transaction((client) =>
      reconcile.resumeEvent(client, eventId, toDate(resume.at), resume.restart, this.workNews),
    )
  }

  deadLetterEvent(eventId: string, by: { reason: string; by: string; at: string }): Promise<OperatorDeadLetterOutcome> {
    return this.transaction((client) =>
      reconcile.deadLetterEvent(client, eventId, { reason: by.reason, by: by.by, at: toDate(by.at) }),
    )
  }

  /** Answers every call made before it, stops listening, ends the pool. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight])
      await this.news?.close()
      await this.pool.end()
    })()
    return this.closing
  }

  /** One statement on any pooled connection (a single statement is its own transaction). */
  private statement<T>(job: (db: pg.Pool) => Promise<T>): Promise<T> {
    return this.track(() => job(this.pool))
  }

  private transaction<T>(job: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.track(() => inTransaction(this.pool, job))
  }

  private track<T>(job: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error('the store is closed'))
    // A job that throws before its first await rejects like one that fails later.
    const running = (async () => job())()
    this.inFlight.add(running)
    const forget = () => {
      this.inFlight.delete(running)
    }
    running.then(forget, forget)
    return running
  }

  /** What a listener may have missed while nothing listened: any work, and the deployments as they are. */
  private async missedNews(): Promise<StoreNews[]> {
    const deployed = await flows.deployedFlows(this.pool)
    return [
      { kind: 'work' },
      ...[...deployed].map(([flowId, version]): StoreNews => ({ kind: 'deploy', flowId, version })),
    ]
  }
}

export function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  return PostgresStore.open(options)
}
