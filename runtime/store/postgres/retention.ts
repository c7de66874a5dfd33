/** @module Retention: raw bodies past a flow's window, and dedupe claims past their expiry. */
import type { Queryable } from './connection.ts'

/** Removes raw bodies of a flow's events received before `before`; returns how many. */
export async function purgeRawPayloads(db: Queryable, flowId: string, before: Date): Promise<number> {
  const purged = await db.query(
    'UPDATE events SET raw_body = NULL WHERE flow_id = $1 AND received_at < $2 AND raw_body IS NOT NULL',
    [flowId, before],
  )
  return purged.rowCount ?? 0
}

export async function purgeExpiredClaims(db: Queryable, now: Date): Promise<number> {
  const purged = await db.query('DELETE FROM dedupe_claims WHERE expires_at <= $1', [now])
  return purged.rowCount ?? 0
}
