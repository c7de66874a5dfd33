/** @module Reconciliation reads of the SQLite store: open events older than a threshold, why each is stuck, counts per flow. */
import type Sqlite from 'better-sqlite3'
import type { OpenStatus, Page, PendingWork, UnreconciledEvent, UnreconciledFilter } from '../store.ts'
import { decodeCursor, encodeCursor, pageLimit } from '../store-paging.ts'
import { unreconciledEvent } from '../unreconciled.ts'
import { type StepRow, stepFromRow, toIso, toMs } from './rows.ts'

interface OpenEventRow {
  id: string
  flow_id: string
  flow_version: number
  status: OpenStatus
  received_at: number
  updated_at: number
  test: 0 | 1
}

interface PendingWorkRow {
  id: string
  event_id: string
  flow_version: number
  node: string
  attempt: number
  run_at: number
  lease_owner: string | null
  lease_expires_at: number | null
}

type Params = Record<string, string | number>

const OPEN = "status IN ('accepted', 'processing')"

export class SqliteReconcileReads {
  /** Page queries differ by which filters are set: each shape is prepared once. */
  private readonly pages = new Map<string, Sqlite.Statement<[Params], OpenEventRow>>()
  private readonly work: Sqlite.Statement<[string], PendingWorkRow>
  private readonly lastSteps: Sqlite.Statement<[string], StepRow & { event_id: string }>
  private readonly counts: Sqlite.Statement<[number], { flow_id: string; n: number }>

  constructor(private readonly db: Sqlite.Database) {
    // Event ids travel as one JSON parameter: one statement for any page.
    this.work = db.prepare(`
      SELECT id, event_id, flow_version, node, attempt, run_at, lease_owner, lease_expires_at FROM work_items
      WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY run_at, id`)
    this.lastSteps = db.prepare(`
      SELECT s.event_id, s.step FROM steps s
      JOIN (SELECT event_id, MAX(seq) AS seq FROM steps WHERE event_id IN (SELECT value FROM json_each(?))
            GROUP BY event_id) last
        ON last.event_id = s.event_id AND last.seq = s.seq`)
    this.counts = db.prepare(
      `SELECT flow_id, COUNT(*) AS n FROM events WHERE ${OPEN} AND received_at < ? AND test = 0 GROUP BY flow_id`,
    )
  }

  listUnreconciled(filter: UnreconciledFilter): Page<UnreconciledEvent> {
    const limit = pageLimit(filter.limit)
    const conditions = [OPEN, 'received_at < @before']
    const params: Params = { before: filter.olderThan.getTime(), limit: limit + 1 }
    if (filter.flow !== undefined) {
      conditions.push('flow_id = @flow')
      params.flow = filter.flow
    }
    if (filter.cursor !== undefined) {
      const position = decodeCursor(filter.cursor)
      conditions.push('(received_at, id) < (@cursorAt, @cursorId)')
      params.cursorAt = toMs(position.at)
      params.cursorId = position.id
    }
    const sql = `SELECT id, flow_id, flow_version, status, received_at, updated_at, test FROM events
      WHERE ${conditions.join(' AND ')} ORDER BY received_at DESC, id DESC LIMIT @limit`
    let page = this.pages.get(sql)
    if (!page) {
      page = this.db.prepare<[Params], OpenEventRow>(sql)
      this.pages.set(sql, page)
    }
    const now = (filter.now ?? new Date()).getTime()
    // One read transaction: the events, their work and their steps as of one commit.
    return this.db
      .transaction((): Page<UnreconciledEvent> => {
        const rows = (page as Sqlite.Statement<[Params], OpenEventRow>).all(params)
        const events = rows.slice(0, limit)
        const ids = JSON.stringify(events.map((row) => row.id))
        const work = new Map<string, PendingWork[]>()
        for (const row of this.work.all(ids)) {
          const items = work.get(row.event_id) ?? []
          items.push(pendingWorkFromRow(row))
          work.set(row.event_id, items)
        }
        const steps = new Map(this.lastSteps.all(ids).map((row) => [row.event_id, stepFromRow(row)]))
        const last = events.at(-1)
        return {
          items: events.map((row) =>
            unreconciledEvent(
              {
                id: row.id,
                flowId: row.flow_id,
                flowVersion: row.flow_version,
                status: row.status,
                receivedAt: toIso(row.received_at),
                updatedAt: toIso(row.updated_at),
                test: row.test === 1,
              },
              work.get(row.id) ?? [],
              steps.get(row.id),
              now,
            ),
          ),
          nextCursor:
            rows.length > limit && last !== undefined
              ? encodeCursor({ at: toIso(last.received_at), id: last.id })
              : null,
        }
      })
      .deferred()
  }

  countUnreconciled(olderThan: Date): Map<string, number> {
    return new Map(this.counts.all(olderThan.getTime()).map((row) => [row.flow_id, row.n]))
  }
}

function pendingWorkFromRow(row: PendingWorkRow): PendingWork {
  return {
    id: row.id,
    node: row.node,
    flowVersion: row.flow_version,
    attempt: row.attempt,
    runAt: toIso(row.run_at),
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at === null ? null : toIso(row.lease_expires_at),
  }
}
