/**
 * @module What accept, complete, retry and replay write for an event: its steps, lineage, work and dead
 * letters, each list in one statement whatever its length (arrays unnested), inside the caller's transaction.
 *
 * Steps are numbered after the event's last one, so two transactions appending to one event must not
 * interleave: callers other than accept (whose event is new) hold the event's row lock (`lockEvent`).
 */
import type pg from 'pg'
import type { DeadLetter, Step, WorkStart } from '../../engine/types.ts'
import type { Lineage } from '../../model/node-kind.ts'
import type { EventStatus } from '../store.ts'
import { deadLetterColumns, lineageColumns, stepColumns, workColumns } from './column-arrays.ts'

export interface EventRef {
  id: string
  flowId: string
  flowVersion: number
}

/** Locks the event's row until the transaction ends; undefined when there is no such event. */
export async function lockEvent(
  client: pg.PoolClient,
  eventId: string,
): Promise<{ status: EventStatus; flowId: string | null } | undefined> {
  const { rows } = await client.query<{ status: EventStatus; flow_id: string | null }>(
    'SELECT status, flow_id FROM events WHERE id = $1 FOR UPDATE',
    [eventId],
  )
  const row = rows[0]
  return row && { status: row.status, flowId: row.flow_id }
}

/** Numbers the steps after the event's last one; `after` is known for a new event (0) and saves a subquery. */
export async function appendSteps(client: pg.PoolClient, eventId: string, steps: Step[], after?: number) {
  if (steps.length === 0) return
  const base = after === undefined ? '(SELECT COALESCE(MAX(seq), 0) FROM steps WHERE event_id = $1)' : String(after)
  await client.query(
    `INSERT INTO steps (event_id, seq, node, kind, phase, port, attempt, started_at, duration_ms, step)
     SELECT $1, ${base} + s.ord, s.node, s.kind, s.phase, s.port, s.attempt, s.started_at, s.duration_ms, s.step
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::float8[],
                 $9::text[]) WITH ORDINALITY
       AS s(node, kind, phase, port, attempt, started_at, duration_ms, step, ord)`,
    [eventId, ...stepColumns(steps)],
  )
}

/** A node's newer lineage replaces its older one; other nodes' stay. */
export async function mergeLineage(client: pg.PoolClient, eventId: string, lineage: Record<string, Lineage>) {
  if (Object.keys(lineage).length === 0) return
  await client.query(
    `INSERT INTO lineage (event_id, node, lineage)
     SELECT $1, l.node, l.lineage FROM unnest($2::text[], $3::text[]) AS l(node, lineage)
     ON CONFLICT (event_id, node) DO UPDATE SET lineage = excluded.lineage`,
    [eventId, ...lineageColumns(lineage)],
  )
}

export async function queueWork(client: pg.PoolClient, event: EventRef, work: WorkStart[], runAt: Date) {
  if (work.length === 0) return
  await client.query(
    `INSERT INTO work_items (id, event_id, flow_id, flow_version, node, message, attempt, run_at)
     SELECT w.id, $1, $2, $3, w.node, w.message, 1, $4
     FROM unnest($5::text[], $6::text[], $7::text[]) AS w(id, node, message)`,
    [event.id, event.flowId, event.flowVersion, runAt, ...workColumns(work)],
  )
}

export async function addDeadLetters(
  client: pg.PoolClient,
  event: EventRef,
  deadLetters: DeadLetter[],
  createdAt: Date,
) {
  if (deadLetters.length === 0) return
  await client.query(
    `INSERT INTO dead_letters (id, event_id, flow_id, flow_version, node, error, message, created_at)
     SELECT d.id, $1, $2, $3, d.node, d.error, d.message, $4
     FROM unnest($5::text[], $6::text[], $7::text[], $8::text[]) AS d(id, node, error, message)`,
    [event.id, event.flowId, event.flowVersion, createdAt, ...deadLetterColumns(deadLetters)],
  )
}

/** What decides an event's status once a write is in: its open dead letters and its pending work. */
export async function eventBacklog(
  client: pg.PoolClient,
  eventId: string,
): Promise<{ openDeadLetters: number; pendingWork: number }> {
  const { rows } = await client.query<{ open_dead_letters: number; pending_work: number }>(
    `SELECT (SELECT COUNT(*)::int FROM dead_letters WHERE event_id = $1 AND replayed_at IS NULL) AS open_dead_letters,
            (SELECT COUNT(*)::int FROM work_items WHERE event_id = $1) AS pending_work`,
    [eventId],
  )
  return { openDeadLetters: rows[0]?.open_dead_letters ?? 0, pendingWork: rows[0]?.pending_work ?? 0 }
}

export async function setEventStatus(client: pg.PoolClient, eventId: string, status: EventStatus, at: Date) {
  await client.query('UPDATE events SET status = $2, updated_at = $3 WHERE id = $1', [eventId, status, at])
}
