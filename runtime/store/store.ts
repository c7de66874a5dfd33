/**
 * @module The store interface: every method is one whole job in one transaction.
 *
 * SQLite (embedded default) and PostgreSQL (scale-out) implement it; one contract test suite runs on both.
 */
import type { DeadLetter, DedupeClaim, Step, WorkStart } from '../engine/types.ts'
import type { Lineage } from '../model/node-kind.ts'
import type { StepErrorInfo } from '../model/step-error.ts'
import type { ErrorCategory, FlowDocument } from '../model/types.ts'

export type EventStatus = 'accepted' | 'processing' | 'completed' | 'dead' | 'rejected' | 'duplicate'

/** A delivery that passed the guard phase: committed whole before the sender hears 202 (or 200 duplicate). */
export interface AcceptedDelivery {
  eventId: string
  requestId: string
  flowId: string
  flowVersion: number
  path: string
  receivedAt: string
  /** Headers as received, with credentials and signatures masked. */
  headers: Record<string, string>
  rawBody: string
  /** The engine found the dedupe key already claimed by this event. */
  duplicateOf?: string
  steps: Step[]
  claims: DedupeClaim[]
  work: WorkStart[]
  deadLetters: DeadLetter[]
  lineage: Record<string, Lineage>
  /** Events sent with the test marker header: kept apart from production figures. */
  test?: boolean
}

export type AcceptResult =
  | { status: 'accepted' | 'completed' | 'dead'; eventId: string }
  /** A claim was taken meanwhile (another request, another process): the event is kept as a duplicate. */
  | { status: 'duplicate'; eventId: string; duplicateOf: string }

/** A request refused before acceptance: metadata only, never an unauthenticated body. */
export interface RejectedDelivery {
  eventId: string
  requestId: string
  flowId?: string
  flowVersion?: number
  path: string
  receivedAt: string
  status: number
  code: string
  message: string
  sizeBytes: number
  /** For 401s: what the signature-failure explainer found (operators only). */
  diagnosis?: unknown
  /** For 422s: the schema errors. */
  details?: unknown
}

export interface WorkItem {
  id: string
  eventId: string
  flowId: string
  flowVersion: number
  node: string
  message: WorkStart['message']
  /** The attempt this lease runs (1 for the first). */
  attempt: number
  runAt: string
  leaseOwner?: string
  leaseExpiresAt?: string
  /** What a worker needs of the event, read with the lease so that running an item needs no other read. */
  event?: WorkEvent
}

export interface WorkEvent {
  receivedAt: string
  headers: Record<string, string>
  rawBody: string | null
  test: boolean
}

/** What one worker run produced: the steps, the work it queued next, and the errors no edge took. */
export interface WorkOutcome {
  steps: Step[]
  next: WorkStart[]
  deadLetters: DeadLetter[]
  lineage: Record<string, Lineage>
}

export interface RetryPlan {
  steps: Step[]
  at: string
  attempt: number
  error: StepErrorInfo
  /** The node to retry and what reaches it, when it is not the item's own node (the item ran up to it). */
  resumeAt?: WorkStart
  /** Lineage of the transforms that ran before the failing node. */
  lineage?: Record<string, Lineage>
}

export interface StoredEvent {
  id: string
  requestId: string
  flowId: string | null
  flowVersion: number | null
  path: string
  status: EventStatus
  receivedAt: string
  updatedAt: string
  headers: Record<string, string>
  /** Null once retention has removed it, and for rejected requests. */
  rawBody: string | null
  sizeBytes: number
  duplicateOf: string | null
  test: boolean
  /** For rejected requests: the status and code answered. */
  rejection: { status: number; code: string; message: string; diagnosis?: unknown; details?: unknown } | null
}

export interface EventDetail extends StoredEvent {
  steps: Step[]
  lineage: Record<string, Lineage>
  deadLetters: StoredDeadLetter[]
  pendingWork: number
}

/** The category of a dead letter an operator made (reconciliation): its message is the operator's reason. */
export const OPERATOR_CATEGORY = 'operator'

/** A dead letter's error: a step's, or `operator` when an operator dead-lettered the event by hand. */
export type DeadLetterError = Omit<StepErrorInfo, 'category'> & { category: ErrorCategory | typeof OPERATOR_CATEGORY }

export interface StoredDeadLetter {
  id: string
  eventId: string
  flowId: string
  flowVersion: number
  node: string
  error: DeadLetterError
  message: WorkStart['message']
  createdAt: string
  /** Set when a replay took it. */
  replayedAt: string | null
}

export interface EventFilter {
  flow?: string
  status?: EventStatus
  /** Received at or after / before (ISO). */
  since?: string
  until?: string
  limit?: number
  /** Opaque cursor from a previous page. */
  cursor?: string
  test?: boolean
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export interface FlowVersionRecord {
  flowId: string
  version: number
  document: FlowDocument
  /** SHA-256 of the canonical document: a file whose content changed becomes a new version. */
  hash: string
  savedAt: string
  savedBy: string | null
}

export interface FlowSummary {
  id: string
  name: string
  version: number
  deployedVersion: number | null
}

export interface QueueFigures {
  /** Work items waiting or leased. */
  pending: number
  leased: number
  /** Items whose next attempt is a retry (attempt > 1). */
  retrying: number
  deadLetters: number
  /** Age of the oldest due item, in ms (0 when none). */
  oldestDueMs: number
}

// --- admin: tokens, secrets, audit, replay (issue 4)

export type Role = 'viewer' | 'editor' | 'operator' | 'admin'

export interface TokenRecord {
  id: string
  name: string
  role: Role
  createdAt: string
  createdBy: string | null
  revokedAt: string | null
  lastUsedAt: string | null
}

/** A secret value as kept at rest: encrypted by the runtime (the store never sees plain text). */
export interface StoredSecretValue {
  ciphertext: string
  fingerprint: string
  setAt: string
  /** Null for the current value; for the previous one, when it stops being valid. */
  validUntil: string | null
}

export interface SecretSummary {
  name: string
  fingerprint: string
  updatedAt: string
  updatedBy: string | null
  /** The value replaced by the last rotation, while it is still accepted. */
  previous: { fingerprint: string; validUntil: string } | null
}

export interface AuditEntry {
  id: string
  at: string
  /** Token name (or `cli`, `flows-dir`). */
  actor: string
  action: string
  /** What it was done to: `flow:conduit-reports@4`, `event:evt_…`, `secret:CRM_API_KEY`, `token:tok_…`. */
  target: string
  reason: string | null
  details: unknown
}

/** A real replay: the same event (same id, so the same Idempotency-Keys) runs again, here on `flowVersion`. */
export interface ReplayRun {
  eventId: string
  flowVersion: number
  steps: Step[]
  work: WorkStart[]
  deadLetters: DeadLetter[]
  lineage: Record<string, Lineage>
  at: string
}

// --- canary deploys and reconciliation (issue 8)

/** A candidate version taking a share of a flow's new events beside the deployed (stable) version. */
export interface CanaryDeployment {
  version: number
  /** Of the 100 buckets new events hash into, how many go to the candidate (1…99). */
  percent: number
}

/** What takes a flow's new events: the stable version, and a canary beside it while one runs. */
export interface Deployment {
  /** The stable version: it takes every new event the canary does not. */
  version: number
  canary: CanaryDeployment | null
}

/** Open events (accepted or processing): the only ones that can be unreconciled. */
export const OPEN_STATUSES = ['accepted', 'processing'] as const
export type OpenStatus = (typeof OPEN_STATUSES)[number]

/**
 * Why an open event has not settled, as far as its queued work shows: `no_work` (nothing queued or running:
 * the work was lost), `leased` (a worker holds it now), `lease_expired` (its holder's lease ran out, a crashed
 * process's, and no worker took it again), `due` (free and due: waiting for a worker), `retry_scheduled`
 * (its next attempt is not due yet).
 */
export type UnreconciledState = 'no_work' | 'leased' | 'lease_expired' | 'due' | 'retry_scheduled'

export interface PendingWork {
  id: string
  node: string
  flowVersion: number
  /** The attempt its next (or current) run is. */
  attempt: number
  runAt: string
  leaseOwner: string | null
  leaseExpiresAt: string | null
}

export interface UnreconciledEvent {
  id: string
  flowId: string
  flowVersion: number
  status: OpenStatus
  receivedAt: string
  updatedAt: string
  test: boolean
  state: UnreconciledState
  /** The event's queued or running work items, due first. */
  work: PendingWork[]
  /** The last step it recorded: where it got to. */
  lastStep: {
    node: string
    kind: string
    port: string | null
    attempt: number
    startedAt: string
    error?: StepErrorInfo
  } | null
}

export interface UnreconciledFilter {
  /** Open events received before this time. */
  olderThan: Date
  flow?: string
  limit?: number
  cursor?: string
  /** The time leases are judged at (default: now). */
  now?: Date
}

/** Work to queue for an open event that has none: the work phase again (see `Store.resumeEvent`). */
export interface EventRestart {
  work: WorkStart[]
  deadLetters: DeadLetter[]
  lineage: Record<string, Lineage>
}

export type ResumeOutcome =
  /** `due`: its pending work is due now; `restarted`: it had none, `restart` was queued. */
  | { outcome: 'due' | 'restarted'; status: EventStatus; items: number }
  | { outcome: 'not_found' }
  /** Completed, dead, rejected or a duplicate: there is nothing to resume. */
  | { outcome: 'settled'; status: EventStatus }
  /** No work is pending and no restart was given. */
  | { outcome: 'no_work'; status: EventStatus }

export type OperatorDeadLetterOutcome =
  | { outcome: 'dead'; status: 'dead'; deadLetters: string[]; removedWork: number }
  | { outcome: 'not_found' }
  | { outcome: 'settled'; status: EventStatus }

/** What a store announces to every process that shares it (PostgreSQL: LISTEN/NOTIFY). */
export type StoreNews =
  /** Work became due (accepted, queued next, retried, replayed): idle workers look at the queue now. */
  | { kind: 'work' }
  /** A version was deployed: each runtime refreshes its registry so the next webhook takes it. */
  | { kind: 'deploy'; flowId: string; version: number }
  /** What one process's live stream told of lately, for the live streams of the others. */
  | { kind: 'stream'; from: string; items: StreamItem[] }

/** A new event or a new status, as the live stream tells it. */
export interface StreamEventItem {
  type: 'event'
  eventId: string
  flowId: string | null
  flowVersion: number | null
  status: EventStatus
  at: string
  /** HTTP status answered to the sender, for deliveries. */
  answered?: number
}

/** One piece of live-stream news between processes: no step bodies (readers fetch the event by id). */
export type StreamItem = StreamEventItem | { type: 'steps'; eventId: string; flowId: string; status?: EventStatus }

export interface Store {
  readonly kind: 'sqlite' | 'postgres'

  /**
   * Hears news written by other processes on the same database (and may hear its own). Absent on stores
   * that only one process opens (SQLite): there the runtime knows everything it did itself.
   */
  subscribe?(listener: (news: StoreNews) => void): () => void
  /** Sends news to every subscribed process, outside any transaction. Absent where subscribe is. */
  announce?(news: StoreNews): Promise<void>

  // --- flows
  /** Saves a version; fails with a VersionConflict when `version` is not the latest + 1. */
  saveFlowVersion(document: FlowDocument, savedBy: string | null): Promise<FlowVersionRecord>
  getFlowVersion(flowId: string, version: number): Promise<FlowVersionRecord | undefined>
  latestFlowVersion(flowId: string): Promise<FlowVersionRecord | undefined>
  listFlowVersions(flowId: string): Promise<Array<Omit<FlowVersionRecord, 'document'>>>
  listFlows(): Promise<FlowSummary[]>
  /**
   * Makes `version` the stable version. Without `canary` any canary ends; with it, `canary.version` takes
   * `canary.percent` of the new events beside it (a version saved and other than `version`).
   */
  deployFlow(flowId: string, version: number, canary?: CanaryDeployment): Promise<void>
  /** Deployed versions of every flow: flowId → version (the stable one). */
  deployedFlows(): Promise<Map<string, number>>
  /** Every flow's deployment, canary included: flowId → deployment. */
  deployments(): Promise<Map<string, Deployment>>

  // --- ingest
  /** Whether a dedupe key is held now; returns the event that holds it. */
  findClaim(scope: string, key: string, now: Date): Promise<string | undefined>
  accept(delivery: AcceptedDelivery): Promise<AcceptResult>
  recordRejection(rejection: RejectedDelivery): Promise<void>

  // --- work
  lease(owner: string, max: number, leaseMs: number, now: Date): Promise<WorkItem[]>
  complete(item: WorkItem, outcome: WorkOutcome): Promise<void>
  retry(item: WorkItem, plan: RetryPlan): Promise<void>
  /**
   * Renews the leases `owner` still holds on these items to `now + leaseMs`, so that slow work is not taken
   * again while it runs; returns the ids it renewed (an item whose lease was lost is left out).
   */
  extendLeases(owner: string, itemIds: string[], leaseMs: number, now: Date): Promise<string[]>
  /** Gives back the leases of a stopping worker, so another can take them at once. */
  releaseLeases(owner: string): Promise<number>
  /** When the next item becomes due (for idle workers), or undefined when the queue is empty. */
  nextDueAt(): Promise<Date | undefined>
  queueFigures(now: Date): Promise<QueueFigures>

  // --- events
  listEvents(filter: EventFilter): Promise<Page<StoredEvent>>
  getEvent(id: string): Promise<EventDetail | undefined>
  /** Open (not yet replayed) dead letters unless `includeReplayed`. */
  listDeadLetters(filter: {
    flow?: string
    ids?: string[]
    limit?: number
    cursor?: string
    includeReplayed?: boolean
  }): Promise<Page<StoredDeadLetter>>

  // --- retention
  /** Removes raw bodies of a flow's events received before `before`; returns how many. */
  purgeRawPayloads(flowId: string, before: Date): Promise<number>
  /** Removes dedupe claims that expired before `now`. */
  purgeExpiredClaims(now: Date): Promise<number>

  // --- tokens (only hashes are stored)
  createToken(token: {
    id: string
    name: string
    role: Role
    hash: string
    createdBy: string | null
  }): Promise<TokenRecord>
  /** The live (not revoked) token with this hash; marks it used. */
  findToken(hash: string): Promise<TokenRecord | undefined>
  listTokens(): Promise<TokenRecord[]>
  revokeToken(id: string): Promise<boolean>

  // --- secrets (values arrive encrypted)
  /** Sets a secret; the value it replaces stays valid for `overlapSec` (0: at once invalid). */
  putSecret(secret: {
    name: string
    ciphertext: string
    fingerprint: string
    overlapSec: number
    by: string | null
  }): Promise<SecretSummary>
  /** The current value and any previous one still valid at `now`, newest first. */
  secretValues(name: string, now: Date): Promise<StoredSecretValue[]>
  listSecrets(now: Date): Promise<SecretSummary[]>

  // --- audit
  appendAudit(entry: Omit<AuditEntry, 'id' | 'at'> & { at?: string }): Promise<AuditEntry>
  listAudit(filter: { limit?: number; cursor?: string }): Promise<Page<AuditEntry>>

  // --- replay
  /**
   * One transaction: marks the event's open dead letters replayed, appends the run's steps and lineage,
   * queues its work and dead letters, and sets the status as `accept` would.
   */
  replayEvent(run: ReplayRun): Promise<{ status: EventStatus }>

  // --- reconciliation
  /** Open events received before `olderThan`, newest first, each with its pending work and last step. */
  listUnreconciled(filter: UnreconciledFilter): Promise<Page<UnreconciledEvent>>
  /** How many open production (not test-marked) events each flow has that were received before `olderThan`. */
  countUnreconciled(olderThan: Date): Promise<Map<string, number>>
  /**
   * One transaction. An open event with pending work: that work becomes due at `at`, and a lease still held
   * on it is given up, as if it had expired (the item runs again: effects are at least once). An open event
   * with none: `restart` is queued (the caller ran the guard phase again); without `restart` nothing changes.
   */
  resumeEvent(eventId: string, resume: { at: string; restart?: EventRestart }): Promise<ResumeOutcome>
  /**
   * One transaction: an open event's pending work becomes dead letters of category `operator` with the
   * reason (one with its last step's node when it has none), its work is removed, and it is dead.
   */
  deadLetterEvent(eventId: string, by: { reason: string; by: string; at: string }): Promise<OperatorDeadLetterOutcome>

  close(): Promise<void>
}

export class VersionConflict extends Error {
  readonly latest: number
  constructor(flowId: string, attempted: number, latest: number) {
    super(
      `flow ${flowId}: version ${attempted} conflicts with the latest saved version ${latest} (expected ${latest + 1})`,
    )
    this.name = 'VersionConflict'
    this.latest = latest
  }
}
