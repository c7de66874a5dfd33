/**
 * @module Reading rows into the store's domain forms, once for both stores: their rows differ only in how a
 * time is held (SQLite: epoch ms, PostgreSQL: a Date), so each store hands over its own `toIso`.
 */
import type { WorkStart } from '../engine/types.ts'
import type { Lineage } from '../model/node-kind.ts'
import type { StepErrorInfo } from '../model/step-error.ts'
import type { FlowDocument } from '../model/types.ts'
import type {
  AuditEntry,
  FlowVersionRecord,
  Role,
  SecretSummary,
  StoredDeadLetter,
  StoredSecretValue,
  TokenRecord,
} from './store.ts'

export interface LineageRow {
  node: string
  lineage: string
}

export interface DeadLetterRow<Time> {
  id: string
  event_id: string
  flow_id: string
  flow_version: number
  node: string
  error: string
  message: string
  created_at: Time
  replayed_at: Time | null
}

export interface FlowVersionRow<Time> {
  flow_id: string
  version: number
  hash: string
  saved_at: Time
  saved_by: string | null
}

export interface TokenRow<Time> {
  id: string
  name: string
  role: Role
  created_at: Time
  created_by: string | null
  revoked_at: Time | null
  last_used_at: Time | null
}

export interface SecretValueRow<Time> {
  ciphertext: string
  fingerprint: string
  set_at: Time
  valid_until: Time | null
}

/** A secret's current value joined with the value its last rotation replaced, when that one is still valid. */
export interface SecretSummaryRow<Time> {
  name: string
  fingerprint: string
  set_at: Time
  set_by: string | null
  previous_fingerprint: string | null
  previous_valid_until: Time | null
}

export interface AuditRow<Time> {
  id: string
  at: Time
  actor: string
  action: string
  target: string
  reason: string | null
  details: string
}

export function lineageFromRows(rows: LineageRow[]): Record<string, Lineage> {
  const lineage: Record<string, Lineage> = {}
  for (const row of rows) lineage[row.node] = JSON.parse(row.lineage) as Lineage
  return lineage
}

export function rowReaders<Time>(toIso: (time: Time) => string) {
  const isoOrNull = (time: Time | null) => (time === null ? null : toIso(time))
  const flowVersionFromRow = (row: FlowVersionRow<Time>): Omit<FlowVersionRecord, 'document'> => ({
    flowId: row.flow_id,
    version: row.version,
    hash: row.hash,
    savedAt: toIso(row.saved_at),
    savedBy: row.saved_by,
  })
  return {
    deadLetterFromRow: (row: DeadLetterRow<Time>): StoredDeadLetter => ({
      id: row.id,
      eventId: row.event_id,
      flowId: row.flow_id,
      flowVersion: row.flow_version,
      node: row.node,
      error: JSON.parse(row.error) as StepErrorInfo,
      message: JSON.parse(row.message) as WorkStart['message'],
      createdAt: toIso(row.created_at),
      replayedAt: isoOrNull(row.replayed_at),
    }),
    flowVersionFromRow,
    flowVersionWithDocument: (row: FlowVersionRow<Time> & { document: string }): FlowVersionRecord => ({
      ...flowVersionFromRow(row),
      document: JSON.parse(row.document) as FlowDocument,
    }),
    /** A token as the store lists it: never with its hash. */
    tokenFromRow: (row: TokenRow<Time>): TokenRecord => ({
      id: row.id,
      name: row.name,
      role: row.role,
      createdAt: toIso(row.created_at),
      createdBy: row.created_by,
      revokedAt: isoOrNull(row.revoked_at),
      lastUsedAt: isoOrNull(row.last_used_at),
    }),
    secretValueFromRow: (row: SecretValueRow<Time>): StoredSecretValue => ({
      ciphertext: row.ciphertext,
      fingerprint: row.fingerprint,
      setAt: toIso(row.set_at),
      validUntil: isoOrNull(row.valid_until),
    }),
    secretSummaryFromRow: (row: SecretSummaryRow<Time>): SecretSummary => ({
      name: row.name,
      fingerprint: row.fingerprint,
      updatedAt: toIso(row.set_at),
      updatedBy: row.set_by,
      previous:
        row.previous_fingerprint === null || row.previous_valid_until === null
          ? null
          : { fingerprint: row.previous_fingerprint, validUntil: toIso(row.previous_valid_until) },
    }),
    auditFromRow: (row: AuditRow<Time>): AuditEntry => ({
      id: row.id,
      at: toIso(row.at),
      actor: row.actor,
      action: row.action,
      target: row.target,
      reason: row.reason,
      details: JSON.parse(row.details) as unknown,
    }),
  }
}
