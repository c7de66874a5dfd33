/** @module Rows as SQLite returns them, and their domain form: times are epoch ms in the database, ISO strings outside. */
import type { Step, WorkStart } from '../../engine/types.ts'
import type { Lineage } from '../../model/node-kind.ts'
import type { StepErrorInfo } from '../../model/step-error.ts'
import type { FlowDocument } from '../../model/types.ts'
import type {
  AuditEntry,
  EventStatus,
  FlowVersionRecord,
  Role,
  SecretSummary,
  StoredDeadLetter,
  StoredEvent,
  StoredSecretValue,
  TokenRecord,
  WorkItem,
} from '../store.ts'

/** An ISO time as stored; a time that does not parse is a caller's bug and must not be stored as NaN. */
export function toMs(iso: string): number {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) throw new TypeError(`not a time: ${JSON.stringify(iso)}`)
  return ms
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString()
}

export interface EventRow {
  id: string
  request_id: string
  flow_id: string | null
  flow_version: number | null
  path: string
  status: EventStatus
  received_at: number
  updated_at: number
  headers: string
  raw_body: string | null
  size_bytes: number
  duplicate_of: string | null
  test: 0 | 1
  rejection: string | null
}

export function eventFromRow(row: EventRow): StoredEvent {
  return {
    id: row.id,
    requestId: row.request_id,
    flowId: row.flow_id,
    flowVersion: row.flow_version,
    path: row.path,
    status: row.status,
    receivedAt: toIso(row.received_at),
    updatedAt: toIso(row.updated_at),
    headers: JSON.parse(row.headers) as Record<string, string>,
    rawBody: row.raw_body,
    sizeBytes: row.size_bytes,
    duplicateOf: row.duplicate_of,
    test: row.test === 1,
    rejection: row.rejection === null ? null : (JSON.parse(row.rejection) as StoredEvent['rejection']),
  }
}

export interface StepRow {
  step: string
}

export function stepFromRow(row: StepRow): Step {
  return JSON.parse(row.step) as Step
}

export interface LineageRow {
  node: string
  lineage: string
}

export function lineageFromRows(rows: LineageRow[]): Record<string, Lineage> {
  const lineage: Record<string, Lineage> = {}
  for (const row of rows) lineage[row.node] = JSON.parse(row.lineage) as Lineage
  return lineage
}

export interface WorkItemRow {
  id: string
  event_id: string
  flow_id: string
  flow_version: number
  node: string
  message: string
  attempt: number
  run_at: number
  lease_owner: string | null
  lease_expires_at: number | null
}

export function workItemFromRow(row: WorkItemRow): WorkItem {
  return {
    id: row.id,
    eventId: row.event_id,
    flowId: row.flow_id,
    flowVersion: row.flow_version,
    node: row.node,
    message: JSON.parse(row.message) as WorkStart['message'],
    attempt: row.attempt,
    runAt: toIso(row.run_at),
    ...(row.lease_owner === null ? {} : { leaseOwner: row.lease_owner }),
    ...(row.lease_expires_at === null ? {} : { leaseExpiresAt: toIso(row.lease_expires_at) }),
  }
}

export interface DeadLetterRow {
  id: string
  event_id: string
  flow_id: string
  flow_version: number
  node: string
  error: string
  message: string
  created_at: number
  replayed_at: number | null
}

export function deadLetterFromRow(row: DeadLetterRow): StoredDeadLetter {
  return {
    id: row.id,
    eventId: row.event_id,
    flowId: row.flow_id,
    flowVersion: row.flow_version,
    node: row.node,
    error: JSON.parse(row.error) as StepErrorInfo,
    message: JSON.parse(row.message) as WorkStart['message'],
    createdAt: toIso(row.created_at),
    replayedAt: row.replayed_at === null ? null : toIso(row.replayed_at),
  }
}

export interface FlowVersionRow {
  flow_id: string
  version: number
  hash: string
  saved_at: number
  saved_by: string | null
}

export function flowVersionFromRow(row: FlowVersionRow): Omit<FlowVersionRecord, 'document'> {
  return {
    flowId: row.flow_id,
    version: row.version,
    hash: row.hash,
    savedAt: toIso(row.saved_at),
    savedBy: row.saved_by,
  }
}

export function flowVersionWithDocument(row: FlowVersionRow & { document: string }): FlowVersionRecord {
  return { ...flowVersionFromRow(row), document: JSON.parse(row.document) as FlowDocument }
}

export interface TokenRow {
  id: string
  name: string
  role: Role
  created_at: number
  created_by: string | null
  revoked_at: number | null
  last_used_at: number | null
}

/** A token as the store lists it: never with its hash. */
export function tokenFromRow(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: toIso(row.created_at),
    createdBy: row.created_by,
    revokedAt: row.revoked_at === null ? null : toIso(row.revoked_at),
    lastUsedAt: row.last_used_at === null ? null : toIso(row.last_used_at),
  }
}

export interface SecretValueRow {
  ciphertext: string
  fingerprint: string
  set_at: number
  valid_until: number | null
}

export function secretValueFromRow(row: SecretValueRow): StoredSecretValue {
  return {
    ciphertext: row.ciphertext,
    fingerprint: row.fingerprint,
    setAt: toIso(row.set_at),
    validUntil: row.valid_until === null ? null : toIso(row.valid_until),
  }
}

/** A secret's current value joined with the value its last rotation replaced, when that one is still valid. */
export interface SecretSummaryRow {
  name: string
  fingerprint: string
  set_at: number
  set_by: string | null
  previous_fingerprint: string | null
  previous_valid_until: number | null
}

export function secretSummaryFromRow(row: SecretSummaryRow): SecretSummary {
  return {
    name: row.name,
    fingerprint: row.fingerprint,
    updatedAt: toIso(row.set_at),
    updatedBy: row.set_by,
    previous:
      row.previous_fingerprint === null || row.previous_valid_until === null
        ? null
        : { fingerprint: row.previous_fingerprint, validUntil: toIso(row.previous_valid_until) },
  }
}

export interface AuditRow {
  id: string
  at: number
  actor: string
  action: string
  target: string
  reason: string | null
  details: string
}

export function auditFromRow(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: toIso(row.at),
    actor: row.actor,
    action: row.action,
    target: row.target,
    reason: row.reason,
    details: JSON.parse(row.details) as unknown,
  }
}
