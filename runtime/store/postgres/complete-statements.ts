/**
 * @module A finished work item in three prepared statements inside the caller's transaction: take the item
 * (and lock its event), write what it produced and count what the event still holds, settle the event.
 *
 * The writes and the counts are separate statements from the lock because a statement sees one snapshot,
 * taken before it waited on the event's row: counting in the locking statement could miss what the
 * transaction it waited for committed. The counts cannot see their own statement's inserts either, so the
 * lists' lengths are added to them.
 */
import type pg from 'pg'
import type { EventStatus, WorkItem, WorkOutcome } from '../store.ts'
import { deadLetterColumns, lineageColumns, stepColumns, workColumns } from './column-arrays.ts'
import { NEWS_CHANNEL } from './news.ts'

/** Deletes the item if this owner still holds it, then locks its event (item row first, as everywhere). */
export async function takeFinished(
  client: pg.PoolClient,
  item: WorkItem,
): Promise<{ runAt: Date; status: EventStatus | null } | undefined> {
  const { rows } = await client.query<{ run_at: Date; status: EventStatus | null }>({
    name: 'mapper_complete_take_1',
    text: `WITH finished AS (
             DELETE FROM work_items WHERE id = $1 AND lease_owner = $2 RETURNING run_at, event_id
           )
           SELECT f.run_at, (SELECT status FROM events WHERE id = f.event_id FOR UPDATE) AS status FROM finished f`,
    values: [item.id, item.leaseOwner],
  })
  const row = rows[0]
  return row && { runAt: row.run_at, status: row.status }
}

/** Appends the outcome's steps, lineage, follow-up work and dead letters; returns the event's backlog after. */
export async function writeOutcome(
  client: pg.PoolClient,
  item: WorkItem,
  outcome: WorkOutcome,
  runAt: Date,
  now: Date,
): Promise<{ openDeadLetters: number; pendingWork: number }> {
  const { steps, next, deadLetters } = outcome
  const { rows } = await client.query<{ open_dead_letters: number; pending_work: number }>({
    name: 'mapper_complete_write_1',
    text: `WITH step AS (
             INSERT INTO steps (event_id, seq, node, kind, phase, port, attempt, started_at, duration_ms, step)
             SELECT $1, (SELECT COALESCE(MAX(seq), 0) FROM steps WHERE event_id = $1) + s.ord, s.node, s.kind,
                    s.phase, s.port, s.attempt, s.started_at, s.duration_ms, s.step
             FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::int[], $11::timestamptz[],
                         $12::float8[], $13::text[]) WITH ORDINALITY
               AS s(node, kind, phase, port, attempt, started_at, duration_ms, step, ord)
           ), traced AS (
             INSERT INTO lineage (event_id, node, lineage)
             SELECT $1, l.node, l.lineage FROM unnest($14::text[], $15::text[]) AS l(node, lineage)
             ON CONFLICT (event_id, node) DO UPDATE SET lineage = excluded.lineage
           ), work AS (
             INSERT INTO work_items (id, event_id, flow_id, flow_version, node, message, attempt, run_at)
             SELECT w.id, $1, $2, $3, w.node, w.message, 1, $4
             FROM unnest($16::text[], $17::text[], $18::text[]) AS w(id, node, message)
           ), dead AS (
             INSERT INTO dead_letters (id, event_id, flow_id, flow_version, node, error, message, created_at)
             SELECT d.id, $1, $2, $3, d.node, d.error, d.message, $5
             FROM unnest($19::text[], $20::text[], $21::text[], $22::text[]) AS d(id, node, error, message)
           )
           SELECT (SELECT COUNT(*)::int FROM dead_letters WHERE event_id = $1 AND replayed_at IS NULL)
                    + cardinality($19::text[]) AS open_dead_letters,
                  (SELECT COUNT(*)::int FROM work_items WHERE event_id = $1) + cardinality($16::text[]) AS pending_work`,
    values: [
      item.eventId,
      item.flowId,
      item.flowVersion,
      // Follow-up work is due at once, in its parent's place in the queue (never later than the parent was).
      runAt < now ? runAt : now,
      now,
      ...stepColumns(steps),
      ...lineageColumns(outcome.lineage),
      ...workColumns(next),
      ...deadLetterColumns(deadLetters),
    ],
  })
  return { openDeadLetters: rows[0]?.open_dead_letters ?? 0, pendingWork: rows[0]?.pending_work ?? 0 }
}

/** Sets the event's status, and sends `notify` (a work news payload) with it unless null. */
export async function settleEvent(
  client: pg.PoolClient,
  eventId: string,
  status: EventStatus,
  now: Date,
  notify: string | null,
): Promise<void> {
  await client.query({
    name: 'mapper_complete_settle_1',
    text: `WITH settled AS (UPDATE events SET status = $2, updated_at = $3 WHERE id = $1)
           SELECT pg_notify($4, $5) WHERE $5::text IS NOT NULL`,
    values: [eventId, status, now, NEWS_CHANNEL, notify],
  })
}
