/**
 * @module The work queue: a table, a lease and a few exact statements (as graphile-worker does it).
 *
 * Lock order, the same everywhere so that no two transactions wait for each other in a circle: a work item's
 * row first, then its event's. `lease` locks due items (skipping rows another lease holds) and then their
 * events; `complete` and `retry` change their own item first and lock its event after.
 */
import type pg from 'pg'
import type { QueueFigures, RetryPlan, WorkItem, WorkOutcome } from '../store.ts'
import { settledStatus } from '../store-status.ts'
import { WORK_NEWS } from './accept-statement.ts'
import { settleEvent, takeFinished, writeOutcome } from './complete-statements.ts'
import type { Queryable } from './connection.ts'
import { appendSteps, lockEvent, mergeLineage } from './event-writes.ts'
import { announce, type WorkNews } from './news.ts'
import { toDate, type WorkItemRow, workItemFromRow } from './rows.ts'

/**
 * One statement, so one round trip and no transaction to hold open: takes up to `max` due items that nobody
 * holds (or whose lease expired: a crashed process's), marks their events processing, and returns each item
 * with what the worker needs of its event. SKIP LOCKED lets concurrent leases pass each other's rows by;
 * a row another lease committed meanwhile is checked again and left out, so no item is leased twice.
 */
const LEASE = `
  WITH due AS (
    SELECT id FROM work_items
    WHERE run_at <= $1 AND (lease_owner IS NULL OR lease_expires_at <= $1)
    ORDER BY run_at, id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
  ), leased AS (
    UPDATE work_items w SET lease_owner = $2, lease_expires_at = $3
    FROM due WHERE w.id = due.id
    RETURNING w.*
  ), started AS (
    UPDATE events SET status = 'processing', updated_at = $1
    WHERE id IN (
      SELECT id FROM events
      WHERE id IN (SELECT event_id FROM leased) AND status = 'accepted'
      ORDER BY id
      FOR UPDATE)
  )
  SELECT leased.*, e.received_at AS event_received_at, e.headers AS event_headers,
         e.raw_body AS event_raw_body, e.test AS event_test
  FROM leased LEFT JOIN events e ON e.id = leased.event_id
  ORDER BY leased.run_at, leased.id`

export async function lease(
  db: Queryable,
  owner: string,
  max: number,
  leaseMs: number,
  now: Date,
): Promise<WorkItem[]> {
  if (max <= 0) return []
  const expires = new Date(now.getTime() + leaseMs)
  const { rows } = await db.query<WorkItemRow>(LEASE, [now, owner, expires, Math.floor(max)])
  return rows.map(workItemFromRow)
}

/**
 * Only the lease holder may finish an item: after its lease expired another worker may own it. Three
 * statements (complete-statements.ts) where each list used to be one.
 */
export async function complete(
  client: pg.PoolClient,
  item: WorkItem,
  outcome: WorkOutcome,
  now: Date,
  workNews: WorkNews,
) {
  if (item.leaseOwner === undefined) return
  const finished = await takeFinished(client, item)
  if (finished?.status == null) return
  const backlog = await writeOutcome(client, item, outcome, finished.runAt, now)
  const status = settledStatus(finished.status, backlog.openDeadLetters, backlog.pendingWork)
  const notify = outcome.next.length > 0 && workNews.due() ? WORK_NEWS : null
  await settleEvent(client, item.eventId, status, now, notify)
}

/** Reschedules the item (moved to `resumeAt` when given) and frees its lease, if this owner still holds it. */
export async function retry(client: pg.PoolClient, item: WorkItem, plan: RetryPlan, now: Date, workNews: WorkNews) {
  if (item.leaseOwner === undefined) return
  const moved = await client.query(
    `UPDATE work_items
     SET node = COALESCE($3, node), message = COALESCE($4, message), attempt = $5, run_at = $6,
         lease_owner = NULL, lease_expires_at = NULL
     WHERE id = $1 AND lease_owner = $2`,
    [
      item.id,
      item.leaseOwner,
      plan.resumeAt?.node ?? null,
      plan.resumeAt ? JSON.stringify(plan.resumeAt.message) : null,
      plan.attempt,
      toDate(plan.at),
    ],
  )
  if (moved.rowCount === 0) return
  if ((await lockEvent(client, item.eventId)) === undefined) return
  await appendSteps(client, item.eventId, plan.steps)
  if (plan.lineage) await mergeLineage(client, item.eventId, plan.lineage)
  await client.query('UPDATE events SET updated_at = $2 WHERE id = $1', [item.eventId, now])
  await workNews.announce(client)
}

/** Renews the leases `owner` still holds on these items; one statement, so it locks only the rows it renews. */
export async function extendLeases(
  db: Queryable,
  owner: string,
  itemIds: string[],
  leaseMs: number,
  now: Date,
): Promise<string[]> {
  if (itemIds.length === 0) return []
  const { rows } = await db.query<{ id: string }>(
    'UPDATE work_items SET lease_expires_at = $3 WHERE id = ANY($1::text[]) AND lease_owner = $2 RETURNING id',
    [itemIds, owner, new Date(now.getTime() + leaseMs)],
  )
  return rows.map((row) => row.id)
}

/**
 * Gives back a stopping worker's leases and announces the freed items, always (a stop is rare), so another
 * process takes them at once.
 */
export async function releaseLeases(client: pg.PoolClient, owner: string): Promise<number> {
  const released = await client.query(
    'UPDATE work_items SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1',
    [owner],
  )
  const count = released.rowCount ?? 0
  if (count > 0) await announce(client, { kind: 'work' })
  return count
}

export async function nextDueAt(db: Queryable): Promise<Date | undefined> {
  // A leased item comes due again when its lease expires.
  const { rows } = await db.query<{ due: Date | null }>(`
    SELECT MIN(CASE WHEN lease_owner IS NULL THEN run_at ELSE GREATEST(run_at, lease_expires_at) END) AS due
    FROM work_items`)
  return rows[0]?.due ?? undefined
}

export async function queueFigures(db: Queryable, now: Date): Promise<QueueFigures> {
  const { rows } = await db.query<{
    pending: number
    leased: number
    retrying: number
    oldest_due: Date | null
    dead_letters: number
  }>(
    `SELECT COUNT(*)::int AS pending,
            (COUNT(*) FILTER (WHERE lease_owner IS NOT NULL AND lease_expires_at > $1))::int AS leased,
            (COUNT(*) FILTER (WHERE attempt > 1))::int AS retrying,
            MIN(run_at) FILTER (WHERE run_at <= $1 AND (lease_owner IS NULL OR lease_expires_at <= $1))
              AS oldest_due,
            (SELECT COUNT(*)::int FROM dead_letters WHERE replayed_at IS NULL) AS dead_letters
     FROM work_items`,
    [now],
  )
  const row = rows[0]
  const oldestDue = row?.oldest_due ?? null
  return {
    pending: row?.pending ?? 0,
    leased: row?.leased ?? 0,
    retrying: row?.retrying ?? 0,
    deadLetters: row?.dead_letters ?? 0,
    oldestDueMs: oldestDue === null ? 0 : Math.max(0, now.getTime() - oldestDue.getTime()),
  }
}
