/**
 * @module Rows as PostgreSQL returns them, and their domain form.
 *
 * Times are timestamptz: pg reads them as Dates and the interface shows them as ISO strings with
 * milliseconds, exactly as the SQLite store does. Raw bodies and dedupe keys are bytea holding UTF-8.
 */
import type { Step, WorkStart } from '../../engine/types.ts'
import type * as Shared from '../row-readers.ts'
import { type LineageRow, lineageFromRows, rowReaders } from '../row-readers.ts'
import type { EventStatus, StoredEvent, WorkEvent, WorkItem } from '../store.ts'

/** An ISO time as stored; a time that does not parse is a caller's bug and must not reach the database. */
export function toDate(iso: string): Date {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) throw new TypeError(`not a time: ${JSON.stringify(iso)}`)
  return new Date(ms)
}

export function toIso(date: Date): string {
  return date.toISOString()
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
export type DeadLetterRow = Shared.DeadLetterRow<Date>
export type FlowVersionRow = Shared.FlowVersionRow<Date>
export type TokenRow = Shared.TokenRow<Date>
export type SecretValueRow = Shared.SecretValueRow<Date>
export type SecretSummaryRow = Shared.SecretSummaryRow<Date>
export type AuditRow = Shared.AuditRow<Date>
export type { LineageRow }
