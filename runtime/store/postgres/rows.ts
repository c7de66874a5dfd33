/**
 * @module Rows as PostgreSQL returns them, and their domain form.
 *
 * Times are timestamptz: pg reads them as Dates and the interface shows them as ISO strings with
 * milliseconds, exactly as the SQLite store does. Raw bodies and dedupe keys are bytea holding UTF-8.
 */
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
  WorkEvent,
  WorkItem,
} from '../store.ts'

/** An ISO time as stored; a time that does not parse is a caller's bug and must not reach the database. */
export function toDate(iso: string): Date {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) throw new TypeError(`not a time: ${JSON.stringify(iso)}`)
  return new Date(ms)
}

export function toIso(date: Date): string {
  return date.toISOString()
}

function toIsoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString()
}

/** Text a sender chose byte for byte, as bytea (text columns cannot hold U+0000). */
export function toBytes(text: string): Buffer {
  return Buffer.from(text, 'utf8')
}

export function fromBytes(bytes: Buffer): string {
  return bytes.toString('utf8')
}

export interface EventRow {
  id: string
  request_id: string
  flow_id: string | null
  flow_version: number | null
  path: string
  status: EventStatus
  received_at: Date
  updated_at: Date
  headers: string
  raw_body: Buffer | null
  size_bytes: number
  duplicate_of: string | null
  test: boolean
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
    rawBody: row.raw_body === null ? null : fromBytes(row.raw_body),
    sizeBytes: row.size_bytes,
    duplicateOf: row.duplicate_of,
    test: row.test,
    rejection: row.rejection === null ? null : (JSON.parse(row.rejection) as StoredEvent['rejection']),
  }
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

export function stepFromText(step: string): Step {
  return JSON.parse(step) as Step
}

/** A leased item with what the worker needs of its event, read in the same statement. */
export interface WorkItemRow {
  id: string
  event_id: string
  flow_id: string
  flow_version: number
  node: string
  message: string
  attempt: number
  run_at: Date
  lease_owner: string | null
  lease_expires_at: Date | null
  event_received_at: Date | null
  event_headers: string | null
  event_raw_body: Buffer | null
  event_test: boolean | null
}

export function workItemFromRow(row: WorkItemRow): WorkItem {
  const item: WorkItem = {
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
  if (row.event_received_at === null || row.event_headers === null) return item
  const event: WorkEvent = {
    receivedAt: toIso(row.event_received_at),
    headers: JSON.parse(row.event_headers) as Record<string, string>,
    rawBody: row.event_raw_body === null ? null : fromBytes(row.event_raw_body),
    test: row.event_test === true,
  }
  return { ...item, event }
}

export interface DeadLetterRow {
  id: string
  event_id: string
  flow_id: string
  flow_version: number
  node: string
  error: string
  message: string
  created_at: Date
  replayed_at: Date | null
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
    replayedAt: toIsoOrNull(row.replayed_at),
  }
}

export interface FlowVersionRow {
  flow_id: string
  version: number
  hash: string
  saved_at: Date
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
  created_at: Date
  created_by: string | null
  revoked_at: Date | null
  last_used_at: Date | null
}

/** A token as the store lists it: never with its hash. */
export function tokenFromRow(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: toIso(row.created_at),
    createdBy: row.created_by,
    revokedAt: toIsoOrNull(row.revoked_at),
    lastUsedAt: toIsoOrNull(row.last_used_at),
  }
}

export interface SecretValueRow {
  ciphertext: string
  fingerprint: string
  set_at: Date
  valid_until: Date | null
}

export function secretValueFromRow(row: SecretValueRow): StoredSecretValue {
  return {
    ciphertext: row.ciphertext,
    fingerprint: row.fingerprint,
    setAt: toIso(row.set_at),
    validUntil: toIsoOrNull(row.valid_until),
  }
}

/** A secret's current value joined with the value its last rotation replaced, when that one is still valid. */
export interface SecretSummaryRow {
  name: string
  fingerprint: string
  set_at: Date
  set_by: string | null
  previous_fingerprint: string | null
  previous_valid_until: Date | null
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
  at: Date
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
