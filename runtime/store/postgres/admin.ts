/** @module Admin records: API tokens (hashes only), secret values (encrypted, with what rotation replaced), the audit log. */
import type pg from 'pg'
import type { AuditEntry, Page, Role, SecretSummary, StoredSecretValue, TokenRecord } from '../store.ts'
import { newAuditId } from '../store-ids.ts'
import type { Queryable } from './connection.ts'
import { Conditions, readPage } from './reads.ts'
import {
  type AuditRow,
  auditFromRow,
  type SecretSummaryRow,
  type SecretValueRow,
  secretSummaryFromRow,
  secretValueFromRow,
  type TokenRow,
  toIso,
} from './rows.ts'

/** A token's columns but its hash: a read never returns the hash. */
const TOKEN_COLUMNS = 'id, name, role, created_at, created_by, revoked_at, last_used_at'

/** Two-key advisory locks (a key space apart from the migrations' one-key lock): this class, then the name's hash. */
const SECRET_LOCK_CLASS = 0x6d617073 // "maps"

// --- tokens

export async function createToken(
  db: Queryable,
  token: { id: string; name: string; role: Role; hash: string; createdBy: string | null },
  now: Date,
): Promise<TokenRecord> {
  await db.query('INSERT INTO tokens (id, name, role, hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)', [
    token.id,
    token.name,
    token.role,
    token.hash,
    now,
    token.createdBy,
  ])
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    createdAt: toIso(now),
    createdBy: token.createdBy,
    revokedAt: null,
    lastUsedAt: null,
  }
}

export async function liveToken(db: Queryable, hash: string): Promise<TokenRow | undefined> {
  const { rows } = await db.query<TokenRow>(
    `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = $1 AND revoked_at IS NULL`,
    [hash],
  )
  return rows[0]
}

/** Never backwards: a late touch must not overwrite a newer one (another process's). */
export async function touchToken(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE tokens SET last_used_at = GREATEST(last_used_at, $2)
     WHERE id = $1 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < $2)`,
    [id, now],
  )
}

export async function listTokens(db: Queryable): Promise<TokenRow[]> {
  const { rows } = await db.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id`)
  return rows
}

export async function revokeToken(db: Queryable, id: string, now: Date): Promise<boolean> {
  const revoked = await db.query('UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, now])
  return revoked.rowCount === 1
}

// --- secrets

/**
 * Sets a secret's value; the value it replaces stays valid for `overlapMs`, older replaced ones stop at once.
 * Two rotations of one secret at the same moment take turns (an advisory lock on its name): each replaces
 * the value the other set, never both the same one.
 */
export async function putSecret(
  client: pg.PoolClient,
  secret: { name: string; ciphertext: string; fingerprint: string; overlapMs: number; by: string | null },
  now: Date,
): Promise<SecretSummary> {
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SECRET_LOCK_CLASS, secret.name])
  await client.query(
    'UPDATE secrets SET valid_until = $2 WHERE name = $1 AND valid_until IS NOT NULL AND valid_until > $2',
    [secret.name, now],
  )
  const validUntil = new Date(now.getTime() + secret.overlapMs)
  const replaced = await client.query<{ fingerprint: string }>(
    'UPDATE secrets SET valid_until = $2 WHERE name = $1 AND valid_until IS NULL RETURNING fingerprint',
    [secret.name, validUntil],
  )
  await client.query(
    'INSERT INTO secrets (name, ciphertext, fingerprint, set_at, set_by, valid_until) VALUES ($1, $2, $3, $4, $5, NULL)',
    [secret.name, secret.ciphertext, secret.fingerprint, now, secret.by],
  )
  const previous = replaced.rows[0]
  return {
    name: secret.name,
    fingerprint: secret.fingerprint,
    updatedAt: toIso(now),
    updatedBy: secret.by,
    previous:
      previous && secret.overlapMs > 0 ? { fingerprint: previous.fingerprint, validUntil: toIso(validUntil) } : null,
  }
}

/** The current value (the highest id) and the value the last rotation replaced while it is valid: an older one never. */
export async function secretValues(db: Queryable, name: string, now: Date): Promise<StoredSecretValue[]> {
  const { rows } = await db.query<SecretValueRow>(
    `SELECT ciphertext, fingerprint, set_at, valid_until FROM secrets
     WHERE name = $1 AND (valid_until IS NULL OR (valid_until > $2 AND id = (
       SELECT MAX(id) FROM secrets WHERE name = $1 AND valid_until IS NOT NULL)))
     ORDER BY id DESC`,
    [name, now],
  )
  return rows.map(secretValueFromRow)
}

export async function listSecrets(db: Queryable, now: Date): Promise<SecretSummary[]> {
  const { rows } = await db.query<SecretSummaryRow>(
    `SELECT c.name, c.fingerprint, c.set_at, c.set_by,
            p.fingerprint AS previous_fingerprint, p.valid_until AS previous_valid_until
     FROM secrets c
     LEFT JOIN secrets p
       ON p.id = (SELECT MAX(id) FROM secrets WHERE name = c.name AND valid_until IS NOT NULL)
      AND p.valid_until > $1
     WHERE c.valid_until IS NULL
     ORDER BY c.name`,
    [now],
  )
  return rows.map(secretSummaryFromRow)
}

// --- audit

export async function appendAudit(
  db: Queryable,
  entry: { at: Date; actor: string; action: string; target: string; reason: string | null; details: string },
): Promise<AuditEntry> {
  const id = newAuditId(entry.at.getTime())
  await db.query(
    'INSERT INTO audit (id, at, actor, action, target, reason, details) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [id, entry.at, entry.actor, entry.action, entry.target, entry.reason, entry.details],
  )
  return {
    id,
    at: toIso(entry.at),
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    reason: entry.reason,
    details: JSON.parse(entry.details) as unknown,
  }
}

export function listAudit(db: Queryable, filter: { limit?: number; cursor?: string }): Promise<Page<AuditEntry>> {
  return readPage<AuditRow, AuditEntry>(
    db,
    { table: 'audit', timeColumn: 'at', conditions: new Conditions() },
    filter,
    auditFromRow,
  )
}
