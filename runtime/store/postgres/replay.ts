/**
 * @module A real replay of an event, under its own id (so its Idempotency-Keys stay the same): what it ran
 * now replaces its open dead letters, and its status follows as for a delivery just accepted.
 */
import type pg from 'pg'
import type { EventStatus, ReplayRun } from '../store.ts'
import { replayedStatus } from '../store-status.ts'
import {
  addDeadLetters,
  appendSteps,
  eventBacklog,
  lockEvent,
  mergeLineage,
  queueWork,
  setEventStatus,
} from './event-writes.ts'
import type { WorkNews } from './news.ts'
import { toDate } from './rows.ts'

export async function replayEvent(
  client: pg.PoolClient,
  run: ReplayRun,
  workNews: WorkNews,
): Promise<{ status: EventStatus }> {
  const at = toDate(run.at)
  const target = await lockEvent(client, run.eventId)
  if (!target) throw new Error(`no event ${run.eventId} to replay`)
  if (target.flowId === null || target.status === 'rejected') {
    throw new Error(`event ${run.eventId} was rejected: there is nothing to replay`)
  }
  const event = { id: run.eventId, flowId: target.flowId, flowVersion: run.flowVersion }
  await client.query('UPDATE dead_letters SET replayed_at = $2 WHERE event_id = $1 AND replayed_at IS NULL', [
    run.eventId,
    at,
  ])
  await appendSteps(client, run.eventId, run.steps)
  await mergeLineage(client, run.eventId, run.lineage)
  await queueWork(client, event, run.work, at)
  await addDeadLetters(client, event, run.deadLetters, at)
  const backlog = await eventBacklog(client, run.eventId)
  const status = replayedStatus(target.status, backlog.openDeadLetters, backlog.pendingWork)
  await setEventStatus(client, run.eventId, status, at)
  if (run.work.length > 0) await workNews.announce(client)
  return { status }
}
