/** @module Reads of events, dead letters and claims: newest-first pages with the shared cursor, one event whole. */
import type pg from 'pg'
import { restoreStepInputs } from '../../engine/step-inputs.ts'
import type { EventDetail, EventFilter, Page, StoredDeadLetter, StoredEvent } from '../store.ts'
import { decodeCursor, encodeCursor, pageLimit } from '../store-paging.ts'
import type { Queryable } from './connection.ts'
import {
  type DeadLetterRow,
  deadLetterFromRow,
  type EventRow,
  eventFromRow,
  type LineageRow,
  lineageFromRows,
  stepFromText,
  toBytes,
  toDate,
  toIso,
} from './rows.ts'

/** A query's conditions and their parameters, numbered as they are added. */
export class Conditions {
  readonly where: string[] = []
  readonly values: unknown[] = []

  /** Adds a condition; `$` in it stands for the value's parameter. */
  add(condition: string, value: unknown): void {
    this.values.push(value)
    const parameter = `$${this.values.length}`
    this.where.push(condition.replace('$', () => parameter))
  }

  /** Adds a condition that takes no value. */
  addFixed(condition: string): void {
    this.where.push(condition)
  }
}

/**
 * A newest-first page: the filter's conditions plus the cursor's, ordered by (time, id) descending, one row
 * more than the page holds to know whether another page follows.
 */
export async function readPage<Row extends { id: string }, Item>(
  db: Queryable,
  query: { table: string; timeColumn: keyof Row & string; conditions: Conditions },
  filter: { limit?: number; cursor?: string },
  toItem: (row: Row) => Item,
): Promise<Page<Item>> {
  const { table, timeColumn, conditions } = query
  const limit = pageLimit(filter.limit)
  if (filter.cursor !== undefined) {
    const position = decodeCursor(filter.cursor)
    conditions.values.push(toDate(position.at), position.id)
    const n = conditions.values.length
    conditions.addFixed(`(${timeColumn}, id) < ($${n - 1}, $${n})`)
  }
  const where = conditions.where.length > 0 ? ` WHERE ${conditions.where.join(' AND ')}` : ''
  const { rows } = await db.query<Row>(
    `SELECT * FROM ${table}${where} ORDER BY ${timeColumn} DESC, id DESC LIMIT ${limit + 1}`,
    conditions.values,
  )
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  const more = rows.length > limit && last !== undefined
  return {
    items: items.map(toItem),
    nextCursor: more ? encodeCursor({ at: toIso(last[timeColumn] as Date), id: last.id }) : null,
  }
}

export async function findClaim(db: Queryable, scope: string, key: string, now: Date): Promise<string | undefined> {
  const { rows } = await db.query<{ event_id: string }>(
    'SELECT event_id FROM dedupe_claims WHERE scope = $1 AND key = $2 AND expires_at > $3',
    [scope, toBytes(key), now],
  )
  return rows[0]?.event_id
}

export function listEvents(db: Queryable, filter: EventFilter): Promise<Page<StoredEvent>> {
  const conditions = new Conditions()
  if (filter.flow !== undefined) conditions.add('flow_id = $', filter.flow)
  if (filter.status !== undefined) conditions.add('status = $', filter.status)
  if (filter.test !== undefined) conditions.add('test = $', filter.test)
  if (filter.since !== undefined) conditions.add('received_at >= $', toDate(filter.since))
  if (filter.until !== undefined) conditions.add('received_at < $', toDate(filter.until))
  return readPage<EventRow, StoredEvent>(
    db,
    { table: 'events', timeColumn: 'received_at', conditions },
    filter,
    eventFromRow,
  )
}

/** Open dead letters unless `includeReplayed`; `ids` keeps only those (an empty list: none). */
export function listDeadLetters(
  db: Queryable,
  filter: { flow?: string; ids?: string[]; limit?: number; cursor?: string; includeReplayed?: boolean },
): Promise<Page<StoredDeadLetter>> {
  const conditions = new Conditions()
  if (filter.flow !== undefined) conditions.add('flow_id = $', filter.flow)
  if (filter.ids !== undefined) conditions.add('id = ANY($::text[])', filter.ids)
  if (filter.includeReplayed !== true) conditions.addFixed('replayed_at IS NULL')
  return readPage<DeadLetterRow, StoredDeadLetter>(
    db,
    { table: 'dead_letters', timeColumn: 'created_at', conditions },
    filter,
    deadLetterFromRow,
  )
}

/** The event, its steps and its queue state as of one snapshot (the caller's read-only transaction). */
export async function getEvent(client: pg.PoolClient, id: string): Promise<EventDetail | undefined> {
  const event = await client.query<EventRow>('SELECT * FROM events WHERE id = $1', [id])
  const row = event.rows[0]
  if (!row) return undefined
  const steps = await client.query<{ step: string }>('SELECT step FROM steps WHERE event_id = $1 ORDER BY seq', [id])
  const lineage = await client.query<LineageRow>(
    'SELECT node, lineage FROM lineage WHERE event_id = $1 ORDER BY node',
    [id],
  )
  const deadLetters = await client.query<DeadLetterRow>(
    'SELECT * FROM dead_letters WHERE event_id = $1 ORDER BY created_at, id',
    [id],
  )
  const pending = await client.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM work_items WHERE event_id = $1', [
    id,
  ])
  return {
    ...eventFromRow(row),
    steps: restoreStepInputs(steps.rows.map((s) => stepFromText(s.step))),
    lineage: lineageFromRows(lineage.rows),
    deadLetters: deadLetters.rows.map(deadLetterFromRow),
    pendingWork: pending.rows[0]?.n ?? 0,
  }
}
