/** @module Rows as SQLite returns them, and their domain form: times are epoch ms in the database, ISO strings outside. */
import type { Step, WorkStart } from '../../engine/types.ts'
import type * as Shared from '../row-readers.ts'
import { type LineageRow, lineageFromRows, rowReaders } from '../row-readers.ts'
import type { EventStatus, StoredEvent, WorkItem } from '../store.ts'

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

const readers = rowReaders(toIso)
export const {
  deadLetterFromRow,
  flowVersionFromRow,
  flowVersionWithDocument,
  tokenFromRow,
  secretValueFromRow,
  secretSummaryFromRow,
  auditFromRow,
} = readers
export { lineageFromRows }
export type DeadLetterRow = Shared.DeadLetterRow<number>
export type FlowVersionRow = Shared.FlowVersionRow<number>
export type TokenRow = Shared.TokenRow<number>
export type SecretValueRow = Shared.SecretValueRow<number>
export type SecretSummaryRow = Shared.SecretSummaryRow<number>
export type AuditRow = Shared.AuditRow<number>
export type { LineageRow }
