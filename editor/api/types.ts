/** @module What the admin API answers (SPEC §6), typed from the runtime's own types wherever they exist. */
import type { Step } from '../../runtime/engine/types.ts'
import type { FlowIssue } from '../../runtime/model/graph-checks.ts'
import type { Lineage, OutboundRequest } from '../../runtime/model/node-kind.ts'
import type { FlowDocument } from '../../runtime/model/types.ts'
import type { DeployAnswer } from '../../runtime/server/api/deploy.ts'
import type { Attempt } from '../../runtime/server/api/events.ts'
import type { CanarySummary } from '../../runtime/server/api/metrics-summary.ts'
import type {
  ReconcileAction,
  ReconcileResult,
  UnreconciledItem,
  UnreconciledList,
} from '../../runtime/server/api/reconcile.ts'
import type { ReplayChanges, ReplayPreview, ReplayResult, RunPath } from '../../runtime/server/api/replay.ts'
import type { DryRun } from '../../runtime/server/api/test-run.ts'
import type { MetricsSummary as FiguresSummary, WindowFigures } from '../../runtime/server/recent-figures.ts'
import type {
  AuditEntry,
  CanaryDeployment,
  EventStatus,
  FlowVersionRecord,
  Page,
  QueueFigures,
  Role,
  SecretSummary,
  StoredDeadLetter,
  StoredEvent,
  EventDetail as StoredEventDetail,
  FlowSummary as StoredFlowSummary,
} from '../../runtime/store/store.ts'

export type {
  Attempt,
  AuditEntry,
  CanaryDeployment,
  CanarySummary,
  DeployAnswer,
  EventStatus,
  FlowDocument,
  FlowIssue,
  Lineage,
  Page,
  ReconcileAction,
  ReconcileResult,
  ReplayChanges,
  ReplayPreview,
  ReplayResult,
  Role,
  RunPath,
  SecretSummary,
  Step,
  StoredDeadLetter,
  StoredEvent,
  UnreconciledItem,
  UnreconciledList,
  WindowFigures,
}

/** GET /api/flows: a flow with its latest and deployed versions, and the canary beside the deployed one. */
export type FlowSummary = StoredFlowSummary & { canary?: CanaryDeployment | null }

export const EVENT_STATUSES: readonly EventStatus[] = [
  'accepted',
  'processing',
  'completed',
  'dead',
  'rejected',
  'duplicate',
]

/** GET /api/events/:id: the stored event with its attempts and runs (receipt, then each replay). */
export type EventDetail = StoredEventDetail & {
  attempts?: Attempt[]
  runs?: Array<{ run: number; version: number | null; at: string; by: string | null; path: RunPath }>
}

/** GET /api/metrics/summary: the recent figures and the queue now; with ?flow= while a canary runs, per version. */
export type MetricsSummary = FiguresSummary & { queue?: QueueFigures } & Partial<CanarySummary>

/** GET /api/me */
export interface Me {
  name: string
  role: Role
}

/** One row of GET /api/flows/:id/versions. */
export type FlowVersionSummary = Omit<FlowVersionRecord, 'document'> & {
  deployed?: boolean
  /** Set on the version a running canary deploys. */
  canary?: CanaryDeployment | null
}

/** A step of a test run: the engine's step record (the http request it would have sent included). */
export type TestStep = Step & { request?: OutboundRequest }

/** POST /api/flows/:id/test */
export interface TestRunRequest {
  payload: unknown
  headers?: Record<string, string>
  rawBody?: string
  /** The unsaved flow: test what is on the canvas, not what was saved. */
  document?: FlowDocument
}

/** What a test run answers: how it ended, every step, lineage, and what would be left to do. */
export type TestRunResult = Omit<DryRun, 'steps'> & { steps: TestStep[] }

/** POST /api/events/:id/replay */
export interface ReplayRequest {
  version?: number
  preview?: boolean
  /** Required for a real replay: it goes to the audit log. */
  reason?: string
}

/** What the signature-failure explainer recorded on a rejected delivery (operators only). */
export interface RejectionDiagnosis {
  code?: string
  reason?: string
  node?: string
  clockOffsetSec?: number
  findings?: Array<{ cause: string; detail: string }>
  secretsTried?: string[]
}

/** The body of every API error. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown }
}

/** A message of GET /api/stream. */
export type StreamNews =
  | {
      type: 'event'
      eventId: string
      flowId: string | null
      flowVersion: number | null
      status: EventStatus
      at: string
      answered?: number
    }
  | { type: 'steps'; eventId: string; flowId: string; steps: Step[]; status?: EventStatus }
