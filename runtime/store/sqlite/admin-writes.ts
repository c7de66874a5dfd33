/**
 * @module The admin writes of the SQLite store: tokens, secret values and the audit log (writer thread only).
 *
 * Like writes.ts, each function runs inside the writer's batch transaction, so a read-then-write here (the
 * secret value a rotation replaces) cannot interleave with another write.
 */
import type Sqlite from 'better-sqlite3'
import type { AuditEntry, SecretSummary, TokenRecord } from '../store.ts'
import { newAuditId } from '../store-ids.ts'
import { toIso } from './rows.ts'
import type { NewAuditEntry, NewSecretValue, NewToken } from './writer-protocol.ts'

export interface AdminWrites {
  createToken(token: NewToken, now: number): TokenRecord
  touchToken(id: string, now: number): void
  revokeToken(id: string, now: number): boolean
  putSecret(secret: NewSecretValue, now: number): SecretSummary
  appendAudit(entry: NewAuditEntry): AuditEntry
}

export function prepareAdminWrites(db: Sqlite.Database): AdminWrites {
  const statements = {
    insertToken: db.prepare<[string, string, string, string, number, string | null]>(`
      INSERT INTO tokens (id, name, role, hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)`),
    // Never backwards: a late touch must not overwrite a newer one (another process's).
    touchToken: db.prepare<{ id: string; now: number }>(`
      UPDATE tokens SET last_used_at = MAX(COALESCE(last_used_at, 0), @now)
      WHERE id = @id AND revoked_at IS NULL`),
    revokeToken: db.prepare<[number, string]>('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    currentSecret: db.prepare<[string], { id: number; fingerprint: string }>(
      'SELECT id, fingerprint FROM secrets WHERE name = ? AND valid_until IS NULL',
    ),
    // Older replaced values stop at once: only the value a rotation replaces may stay valid.
    endPreviousSecrets: db.prepare<{ name: string; now: number }>(
      'UPDATE secrets SET valid_until = @now WHERE name = @name AND valid_until IS NOT NULL AND valid_until > @now',
    ),
    replaceSecret: db.prepare<[number, number]>('UPDATE secrets SET valid_until = ? WHERE id = ?'),
    insertSecret: db.prepare<[string, string, string, number, string | null]>(`
      INSERT INTO secrets (name, ciphertext, fingerprint, set_at, set_by, valid_until) VALUES (?, ?, ?, ?, ?, NULL)`),
    insertAudit: db.prepare<[string, number, string, string, string, string | null, string]>(`
      INSERT INTO audit (id, at, actor, action, target, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?)`),
  }

  function createToken(token: NewToken, now: number): TokenRecord {
    statements.insertToken.run(token.id, token.name, token.role, token.hash, now, token.createdBy)
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

  function putSecret(secret: NewSecretValue, now: number): SecretSummary {
    statements.endPreviousSecrets.run({ name: secret.name, now })
    const current = statements.currentSecret.get(secret.name)
    const validUntil = now + secret.overlapMs
    if (current) statements.replaceSecret.run(validUntil, current.id)
    statements.insertSecret.run(secret.name, secret.ciphertext, secret.fingerprint, now, secret.by)
    return {
      name: secret.name,
      fingerprint: secret.fingerprint,
      updatedAt: toIso(now),
      updatedBy: secret.by,
      previous:
        current && secret.overlapMs > 0 ? { fingerprint: current.fingerprint, validUntil: toIso(validUntil) } : null,
    }
  }

  function appendAudit(entry: NewAuditEntry): AuditEntry {
    const id = newAuditId(entry.at)
    statements.insertAudit.run(id, entry.at, entry.actor, entry.action, entry.target, entry.reason, entry.details)
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

  return {
    createToken,
    touchToken: (id, now) => {
      statements.touchToken.run({ id, now })
    },
    revokeToken: (id, now) => statements.revokeToken.run(now, id).changes > 0,
    putSecret,
    appendAudit,
  }
}
