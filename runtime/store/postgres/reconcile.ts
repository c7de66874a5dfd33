/**
 * @module Reconciliation in PostgreSQL: open events older than a threshold with why each is stuck, counts per
 * flow, and an operator's resume or dead letter, each one transaction that locks in queue.ts's order: the
 * event's work items first, then the event's row.
 */
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import type {
  EventRestart,
  EventStatus,
  OpenStatus,
  OperatorDeadLetterOutcome,
  Page,
  PendingWork,
  ResumeOutcome,
  UnreconciledEvent,
  UnreconciledFilter,
} from '../store.ts'
import { OPEN_STATUSES } from '../store.ts'
import { decodeCursor, encodeCursor, pageLimit } from '../store-paging.ts'
import { replayedStatus } from '../store-status.ts'
import { operatorError, payloadOf, unreconciledEvent } from '../unreconciled.ts'
import type { Queryable } from './connection.ts'
import { addDeadLetters, mergeLineage, queueWork, setEventStatus } from './event-writes.ts'
import { announce, type WorkNews } from './news.ts'
import { fromBytes, stepFromText, toDate, toIso } from './rows.ts'

/** The node an operator's dead letter names when the event has no pending work and no step at all. */
const NO_NODE = '-'

interface OpenEventRow {
  id: string
  flow_id: string
  flow_version: number
  status: OpenStatus
  received_at: Date
  updated_at: Date
  test: boolean
}

interface PendingWorkRow {
  id: string
  event_id: string
  flow_version: number
  node: string
  attempt: number
  run_at: Date
  lease_owner: string | null
  lease_expires_at: Date | null
}

/** One read-only snapshot (the caller's): a page of open events, then their work and last steps. */
export async function listUnreconciled(
  client: pg.PoolClient,
  filter: UnreconciledFilter,
): Promise<Page<UnreconciledEvent>> {
  const limit = pageLimit(filter.limit)
  const values: unknown[] = [[...OPEN_STATUSES], filter.olderThan]
  const where = ['status = ANY($1::text[])', 'received_at < $2']
  if (filter.flow !== undefined) {
    values.push(filter.flow)
    where.push(`flow_id = $${values.length}`)
  }
  if (filter.cursor !== undefined) {
    const position = decodeCursor(filter.cursor)
    values.push(toDate(position.at), position.id)
    where.push(`(received_at, id) < ($${values.length - 1}, $${values.length})`)
  }
  // Not SELECT *: the list never shows raw bodies.
  const { rows } = await client.query<OpenEventRow>(
    `SELECT id, flow_id, flow_version, status, received_at, updated_at, test FROM events
     WHERE ${where.join(' AND ')} ORDER BY received_at DESC, id DESC LIMIT ${limit + 1}`,
    values,
  )
  const events = rows.slice(0, limit)
  const last = events.at(-1)
  const page = {
    items: events,
    nextCursor:
      rows.length > limit && last !== undefined ? encodeCursor({ at: toIso(last.received_at), id: last.id }) : null,
  }
  const ids = page.items.map((row) => row.id)
  const work = await client.query<PendingWorkRow>(
    `SELECT id, event_id, flow_version, node, attempt, run_at, lease_owner, lease_expires_at FROM work_items
     WHERE event_id = ANY($1::text[]) ORDER BY run_at, id`,
    [ids],
  )
  const steps = await client.query<{ event_id: string; step: string }>(
    `SELECT DISTINCT ON (event_id) event_id, step FROM steps WHERE event_id = ANY($1::text[])
     ORDER BY event_id, seq DESC`,
    [ids],
  )
  const byEvent = new Map<string, PendingWork[]>()
  for (const row of work.rows) {
    const items = byEvent.get(row.event_id) ?? []
    items.push({
      id: row.id,
      node: row.node,
      flowVersion: row.flow_version,
      attempt: row.attempt,
      runAt: toIso(row.run_at),
      leaseOwner: row.lease_owner,
      leaseExpiresAt: row.lease_expires_at === null ? null : toIso(row.lease_expires_at),
    })
    byEvent.set(row.event_id, items)
  }
  const lastSteps = new Map(steps.rows.map((row) => [row.event_id, stepFromText(row.step)]))
  const now = (filter.now ?? new Date()).getTime()
  return {
    items: page.items.map((row) =>
      unreconciledEvent(
        {
          id: row.id,
          flowId: row.flow_id,
          flowVersion: row.flow_version,
          status: row.status,
          receivedAt: toIso(row.received_at),
          updatedAt: toIso(row.updated_at),
          test: row.test,
        },
        byEvent.get(row.id) ?? [],
        lastSteps.get(row.id),
        now,
      ),
    ),
    nextCursor: page.nextCursor,
  }
}

export async function countUnreconciled(db: Queryable, olderThan: Date): Promise<Map<string, number>> {
  const { rows } = await db.query<{ flow_id: string; n: number }>(
    `SELECT flow_id, COUNT(*)::int AS n FROM events
     WHERE status = ANY($1::text[]) AND received_at < $2 AND NOT test GROUP BY flow_id`,
    [[...OPEN_STATUSES], olderThan],
  )
  return new Map(rows.map((row) => [row.flow_id, row.n]))
}

type OpenEvent = { outcome: 'open'; flowId: string; flowVersion: number; status: OpenStatus }
type Refusal = { outcome: 'not_found' } | { outcome: 'settled'; status: EventStatus }

/** Locks the event's work items, then its row; answers it when it is open. */
async function lockOpenEvent(client: pg.PoolClient, eventId: string): Promise<OpenEvent | Refusal> {
  await client.query('SELECT id FROM work_items WHERE event_id = $1 ORDER BY id FOR UPDATE', [eventId])
  const { rows } = await client.query<{ status: EventStatus; flow_id: string | null; flow_version: number | null }>(
    'SELECT status, flow_id, flow_version FROM events WHERE id = $1 FOR UPDATE',
    [eventId],
  )
  const row = rows[0]
  if (!row) return { outcome: 'not_found' }
  if (
    !(OPEN_STATUSES as readonly EventStatus[]).includes(row.status) ||
    row.flow_id === null ||
    row.flow_version === null
  ) {
    return { outcome: 'settled', status: row.status }
  }
  return { outcome: 'open', flowId: row.flow_id, flowVersion: row.flow_version, status: row.status as OpenStatus }
}

export async function resumeEvent(
  client: pg.PoolClient,
  eventId: string,
  at: Date,
  restart: EventRestart | undefined,
  workNews: WorkNews,
): Promise<ResumeOutcome> {
  const found = await lockOpenEvent(client, eventId)
  if (found.outcome !== 'open') return found
  // Due at once, keeping its place when it was due already; a held lease is given up.
  const due = await client.query(
    `UPDATE work_items SET run_at = LEAST(run_at, $2), lease_owner = NULL, lease_expires_at = NULL
     WHERE event_id = $1`,
    [eventId, at],
  )
  const pending = due.rowCount ?? 0
  if (pending > 0) {
    await client.query('UPDATE events SET updated_at = $2 WHERE id = $1', [eventId, at])
    // Always announced (a resume is rare): another process may be the one with an idle worker.
    await announce(client, { kind: 'work' })
    return { outcome: 'due', status: found.status, items: pending }
  }
  if (!restart) return { outcome: 'no_work', status: found.status }
  const event = { id: eventId, flowId: found.flowId, flowVersion: found.flowVersion }
  await queueWork(client, event, restart.work, at)
  await addDeadLetters(client, event, restart.deadLetters, at)
  await mergeLineage(client, eventId, restart.lineage)
  const open = await client.query<{ n: number }>(
    'SELECT COUNT(*)::int AS n FROM dead_letters WHERE event_id = $1 AND replayed_at IS NULL',
    [eventId],
  )
  const status = replayedStatus(found.status, open.rows[0]?.n ?? 0, restart.work.length)
  await setEventStatus(client, eventId, status, at)
  if (restart.work.length > 0) await workNews.announce(client)
  return { outcome: 'restarted', status, items: restart.work.length }
}

export async function deadLetterEvent(
  client: pg.PoolClient,
  eventId: string,
  by: { reason: string; by: string; at: Date },
): Promise<OperatorDeadLetterOutcome> {
  const found = await lockOpenEvent(client, eventId)
  if (found.outcome !== 'open') return found
  const removed = await client.query<{ flow_version: number; node: string; message: string }>(
    'DELETE FROM work_items WHERE event_id = $1 RETURNING flow_version, node, message',
    [eventId],
  )
  let letters = removed.rows.map((row) => ({ flowVersion: row.flow_version, node: row.node, message: row.message }))
  if (letters.length === 0) {
    const last = await client.query<{ node: string; raw_body: Buffer | null }>(
      `SELECT (SELECT node FROM steps WHERE event_id = $1 ORDER BY seq DESC LIMIT 1) AS node, raw_body
       FROM events WHERE id = $1`,
      [eventId],
    )
    const row = last.rows[0]
    const rawBody = row?.raw_body ? fromBytes(row.raw_body) : null
    letters = [
      {
        flowVersion: found.flowVersion,
        node: row?.node ?? NO_NODE,
        message: JSON.stringify({ payload: payloadOf(rawBody) }),
      },
    ]
  }
  const ids = letters.map(() => randomUUID())
  await client.query(
    `INSERT INTO dead_letters (id, event_id, flow_id, flow_version, node, error, message, created_at)
     SELECT d.id, $1, $2, d.flow_version, d.node, $3, d.message, $4
     FROM unnest($5::text[], $6::int[], $7::text[], $8::text[]) AS d(id, flow_version, node, message)`,
    [
      eventId,
      found.flowId,
      JSON.stringify(operatorError(by.reason, by.by)),
      by.at,
      ids,
      letters.map((l) => l.flowVersion),
      letters.map((l) => l.node),
      letters.map((l) => l.message),
    ],
  )
  await setEventStatus(client, eventId, 'dead', by.at)
  return { outcome: 'dead', status: 'dead', deadLetters: ids, removedWork: removed.rowCount ?? 0 }
}
