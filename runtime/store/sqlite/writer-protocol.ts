/** @module The messages between the store (main thread) and its writer thread. Times travel as epoch ms. */
import type { FlowDocument } from '../../model/types.ts'
import type {
  AcceptedDelivery,
  AcceptResult,
  AuditEntry,
  CanaryDeployment,
  EventRestart,
  EventStatus,
  FlowVersionRecord,
  OperatorDeadLetterOutcome,
  RejectedDelivery,
  ReplayRun,
  ResumeOutcome,
  RetryPlan,
  Role,
  SecretSummary,
  TokenRecord,
  WorkItem,
  WorkOutcome,
} from '../store.ts'

/** Every write the store makes; each runs in its own savepoint inside the writer's batch transaction. */
export type WriteCommand =
  | { op: 'accept'; delivery: AcceptedDelivery }
  | { op: 'recordRejection'; rejection: RejectedDelivery }
  | { op: 'lease'; owner: string; max: number; leaseMs: number; now: number }
  | { op: 'complete'; item: WorkItem; outcome: WorkOutcome; now: number }
  | { op: 'retry'; item: WorkItem; plan: RetryPlan; now: number }
  | { op: 'extendLeases'; owner: string; itemIds: string[]; expires: number }
  | { op: 'releaseLeases'; owner: string }
  | {
      op: 'saveFlowVersion'
      document: FlowDocument
      canonical: string
      hash: string
      savedBy: string | null
      now: number
    }
  | { op: 'deployFlow'; flowId: string; version: number; canary?: CanaryDeployment; now: number }
  | { op: 'purgeRawPayloads'; flowId: string; before: number }
  | { op: 'purgeExpiredClaims'; now: number }
  | { op: 'replayEvent'; run: ReplayRun }
  | { op: 'resumeEvent'; eventId: string; at: number; restart?: EventRestart }
  | { op: 'deadLetterEvent'; eventId: string; reason: string; by: string; at: number }
  | { op: 'createToken'; token: NewToken; now: number }
  /** Records a token's use (the store sends it at most once a minute per token, and does not wait for it). */
  | { op: 'touchToken'; id: string; now: number }
  | { op: 'revokeToken'; id: string; now: number }
  | { op: 'putSecret'; secret: NewSecretValue; now: number }
  | { op: 'appendAudit'; entry: NewAuditEntry }
  /** The writer connection's durability settings, for tests and diagnostics. */
  | { op: 'settings' }

/** What each command answers. */
export interface WriteResults {
  accept: AcceptResult
  recordRejection: undefined
  lease: WorkItem[]
  complete: undefined
  retry: undefined
  extendLeases: string[]
  releaseLeases: number
  saveFlowVersion: FlowVersionRecord
  deployFlow: undefined
  purgeRawPayloads: number
  purgeExpiredClaims: number
  replayEvent: { status: EventStatus }
  resumeEvent: ResumeOutcome
  deadLetterEvent: OperatorDeadLetterOutcome
  createToken: TokenRecord
  touchToken: undefined
  revokeToken: boolean
  putSecret: SecretSummary
  appendAudit: AuditEntry
  settings: WriterSettings
}

export interface NewToken {
  id: string
  name: string
  role: Role
  hash: string
  createdBy: string | null
}

export interface NewSecretValue {
  name: string
  ciphertext: string
  fingerprint: string
  /** How long the value it replaces stays valid (0: not at all). */
  overlapMs: number
  by: string | null
}

/** An audit entry as the writer stores it: the id is the writer's to make (see store-ids.ts). */
export interface NewAuditEntry {
  at: number
  actor: string
  action: string
  target: string
  reason: string | null
  /** JSON. */
  details: string
}

export interface WriterSettings {
  journalMode: string
  /** 2 is FULL. */
  synchronous: number
  foreignKeys: boolean
}

export type WriteOp = WriteCommand['op']

/** How the writer starts (its workerData). */
export interface WriterOptions {
  file: string
}

/** An error crossing the thread boundary: classes do not survive structured cloning, so their meaning is spelled out. */
export interface WriteFailure {
  name: string
  message: string
  /** SQLite's error code, such as SQLITE_CONSTRAINT_PRIMARYKEY. */
  code?: string
  /** Set when the failure was a VersionConflict. */
  conflict?: { flowId: string; attempted: number; latest: number }
}

export type WriteReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; failure: WriteFailure }

export type ToWriter = { type: 'write'; id: number; command: WriteCommand } | { type: 'close' }

export type FromWriter =
  | { type: 'ready'; migrationsApplied: string[] }
  /** The replies of one committed transaction; `transactions` counts the writer's commits so far. */
  | { type: 'committed'; transactions: number; replies: WriteReply[] }
  | { type: 'closed' }
  /** The writer cannot go on (it could not open or migrate the database). */
  | { type: 'fatal'; failure: WriteFailure }
