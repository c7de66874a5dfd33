/**
 * @module Reconciliation writes of the SQLite store (writer thread only): resume an open event, or move it to
 * the dead letters by an operator's hand. Like writes.ts, each runs inside the writer's batch transaction.
 */
import { randomUUID } from 'node:crypto'
import type Sqlite from 'better-sqlite3'
import type { DeadLetter, WorkStart } from '../../engine/types.ts'
import type { Lineage } from '../../model/node-kind.ts'
import type { EventRestart, EventStatus, OpenStatus, OperatorDeadLetterOutcome, ResumeOutcome } from '../store.ts'
import { OPEN_STATUSES } from '../store.ts'
import { replayedStatus } from '../store-status.ts'
import { operatorError, payloadOf } from '../unreconciled.ts'

type EventRef = { id: string; flowId: string; flowVersion: number }

/** The writes of writes.ts that a restart shares, so that queued work and dead letters look the same. */
export interface SharedWrites {
  queueWork(event: EventRef, work: WorkStart[], runAt: number): void
  addDeadLetters(event: EventRef, deadLetters: DeadLetter[], createdAt: number): void
  mergeLineage(eventId: string, lineage: Record<string, Lineage>): void
}

/** The node an operator's dead letter names when the event has no pending work and no step at all. */
const NO_NODE = '-'

interface EventRow {
  flow_id: string | null
  flow_version: number | null
  status: EventStatus
  raw_body: string | null
}

interface OpenEvent {
  outcome: 'open'
  flowId: string
  flowVersion: number
  status: OpenStatus
  rawBody: string | null
}

/** Why nothing was done: both operations answer these the same way. */
type Refusal = { outcome: 'not_found' } | { outcome: 'settled'; status: EventStatus }

function isOpen(status: EventStatus): status is OpenStatus {
  return (OPEN_STATUSES as readonly EventStatus[]).includes(status)
}

export function prepareReconcileWrites(db: Sqlite.Database, shared: SharedWrites) {
  const statements = {
    event: db.prepare<[string], EventRow>('SELECT flow_id, flow_version, status, raw_body FROM events WHERE id = ?'),
    pendingWork: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM work_items WHERE event_id = ?'),
    // Due at once, keeping its place when it was due already; a held lease is given up.
    makeDue: db.prepare<{ eventId: string; at: number }>(`
      UPDATE work_items SET run_at = MIN(run_at, @at), lease_owner = NULL, lease_expires_at = NULL
      WHERE event_id = @eventId`),
    touchEvent: db.prepare<[number, string]>('UPDATE events SET updated_at = ? WHERE id = ?'),
    setStatus: db.prepare<[EventStatus, number, string]>('UPDATE events SET status = ?, updated_at = ? WHERE id = ?'),
    openDeadLetters: db.prepare<[string], { n: number }>(
      'SELECT COUNT(*) AS n FROM dead_letters WHERE event_id = ? AND replayed_at IS NULL',
    ),
    work: db.prepare<[string], { flow_version: number; node: string; message: string }>(
      'SELECT flow_version, node, message FROM work_items WHERE event_id = ? ORDER BY run_at, id',
    ),
    lastStepNode: db.prepare<[string], { node: string }>(
      'SELECT node FROM steps WHERE event_id = ? ORDER BY seq DESC LIMIT 1',
    ),
    insertDeadLetter: db.prepare<[string, string, string, number, string, string, string, number]>(`
      INSERT INTO dead_letters (id, event_id, flow_id, flow_version, node, error, message, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    removeWork: db.prepare<[string]>('DELETE FROM work_items WHERE event_id = ?'),
  }

  function openEvent(eventId: string): OpenEvent | Refusal {
    const row = statements.event.get(eventId)
    if (!row) return { outcome: 'not_found' }
    if (!isOpen(row.status) || row.flow_id === null || row.flow_version === null) {
      return { outcome: 'settled', status: row.status }
    }
    return {
      outcome: 'open',
      flowId: row.flow_id,
      flowVersion: row.flow_version,
      status: row.status,
      rawBody: row.raw_body,
    }
  }

  function resumeEvent(eventId: string, at: number, restart: EventRestart | undefined): ResumeOutcome {
    const found = openEvent(eventId)
    if (found.outcome !== 'open') return found
    const pending = statements.pendingWork.get(eventId)?.n ?? 0
    if (pending > 0) {
      statements.makeDue.run({ eventId, at })
      statements.touchEvent.run(at, eventId)
      return { outcome: 'due', status: found.status, items: pending }
    }
    if (!restart) return { outcome: 'no_work', status: found.status }
    const event = { id: eventId, flowId: found.flowId, flowVersion: found.flowVersion }
    shared.queueWork(event, restart.work, at)
    shared.addDeadLetters(event, restart.deadLetters, at)
    shared.mergeLineage(eventId, restart.lineage)
    const open = statements.openDeadLetters.get(eventId)?.n ?? 0
    const status = replayedStatus(found.status, open, restart.work.length)
    statements.setStatus.run(status, at, eventId)
    return { outcome: 'restarted', status, items: restart.work.length }
  }

  function deadLetterEvent(eventId: string, reason: string, by: string, at: number): OperatorDeadLetterOutcome {
    const found = openEvent(eventId)
    if (found.outcome !== 'open') return found
    const error = JSON.stringify(operatorError(reason, by))
    const work = statements.work.all(eventId)
    const letters =
      work.length > 0
        ? work.map((item) => ({ flowVersion: item.flow_version, node: item.node, message: item.message }))
        : [
            {
              flowVersion: found.flowVersion,
              node: statements.lastStepNode.get(eventId)?.node ?? NO_NODE,
              message: JSON.stringify({ payload: payloadOf(found.rawBody) }),
            },
          ]
    const ids: string[] = []
    for (const letter of letters) {
      const id = randomUUID()
      statements.insertDeadLetter.run(
        id,
        eventId,
        found.flowId,
        letter.flowVersion,
        letter.node,
        error,
        letter.message,
        at,
      )
      ids.push(id)
    }
    const removed = statements.removeWork.run(eventId).changes
    statements.setStatus.run('dead', at, eventId)
    return { outcome: 'dead', status: 'dead', deadLetters: ids, removedWork: removed }
  }

  return { resumeEvent, deadLetterEvent }
}
