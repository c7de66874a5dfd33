/**
 * @module Every write of the SQLite store, as synchronous statements on the writer's connection.
 *
 * Only the writer thread calls these, one command at a time inside its batch transaction, so a
 * read-then-write here (a claim check, the latest flow version) cannot interleave with another write.
 */
import { randomUUID } from 'node:crypto'
import type Sqlite from 'better-sqlite3'
import type { DeadLetter, DedupeClaim, Step, WorkStart } from '../../engine/types.ts'
import type { Lineage } from '../../model/node-kind.ts'
import type { FlowDocument } from '../../model/types.ts'
import type {
  AcceptedDelivery,
  AcceptResult,
  CanaryDeployment,
  EventStatus,
  FlowVersionRecord,
  RejectedDelivery,
  ReplayRun,
  RetryPlan,
  WorkEvent,
  WorkItem,
  WorkOutcome,
} from '../store.ts'
import { VersionConflict } from '../store.ts'
import { acceptedStatus, replayedStatus, settledStatus } from '../store-status.ts'
import { prepareAdminWrites } from './admin-writes.ts'
import { prepareReconcileWrites } from './reconcile-writes.ts'
import { toIso, toMs, type WorkItemRow, workItemFromRow } from './rows.ts'
import type { WriteCommand, WriterSettings } from './writer-protocol.ts'

export type RunWrite = (command: WriteCommand) => unknown

interface EventRecord {
  id: string
  requestId: string
  flowId: string | null
  flowVersion: number | null
  path: string
  status: EventStatus
  receivedAt: number
  headers: string
  rawBody: string | null
  sizeBytes: number
  duplicateOf: string | null
  test: 0 | 1
  rejection: string | null
}

/** Prepares every write statement once and returns the function that runs one command. */
export function prepareWrites(db: Sqlite.Database): RunWrite {
  const statements = {
    insertEvent: db.prepare<EventRecord>(`
      INSERT INTO events (id, request_id, flow_id, flow_version, path, status, received_at, updated_at,
                          headers, raw_body, size_bytes, duplicate_of, test, rejection)
      VALUES (@id, @requestId, @flowId, @flowVersion, @path, @status, @receivedAt, @receivedAt,
              @headers, @rawBody, @sizeBytes, @duplicateOf, @test, @rejection)`),
    eventStatus: db.prepare<[string], { status: EventStatus }>('SELECT status FROM events WHERE id = ?'),
    setEventStatus: db.prepare<[EventStatus, number, string]>(
      'UPDATE events SET status = ?, updated_at = ? WHERE id = ?',
    ),
    touchEvent: db.prepare<[number, string]>('UPDATE events SET updated_at = ? WHERE id = ?'),
    startProcessing: db.prepare<[number, string]>(
      "UPDATE events SET status = 'processing', updated_at = ? WHERE id = ? AND status = 'accepted'",
    ),
    lastStepSeq: db.prepare<[string], { seq: number }>(
      'SELECT COALESCE(MAX(seq), 0) AS seq FROM steps WHERE event_id = ?',
    ),
    insertStep: db.prepare(`
      INSERT INTO steps (event_id, seq, node, kind, phase, port, attempt, started_at, duration_ms, step)
      VALUES (@eventId, @seq, @node, @kind, @phase, @port, @attempt, @startedAt, @durationMs, @step)`),
    upsertLineage: db.prepare<[string, string, string]>(`
      INSERT INTO lineage (event_id, node, lineage) VALUES (?, ?, ?)
      ON CONFLICT (event_id, node) DO UPDATE SET lineage = excluded.lineage`),
    claimHolder: db.prepare<[string, string], { event_id: string; expires_at: number }>(
      'SELECT event_id, expires_at FROM dedupe_claims WHERE scope = ? AND key = ?',
    ),
    upsertClaim: db.prepare<[string, string, string, number]>(`
      INSERT INTO dedupe_claims (scope, key, event_id, expires_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (scope, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at`),
    purgeClaims: db.prepare<[number]>('DELETE FROM dedupe_claims WHERE expires_at <= ?'),
    insertWork: db.prepare(`
      INSERT INTO work_items (id, event_id, flow_id, flow_version, node, message, attempt, run_at)
      VALUES (@id, @eventId, @flowId, @flowVersion, @node, @message, 1, @runAt)`),
    lease: db.prepare<{ owner: string; expires: number; now: number; max: number }, WorkItemRow>(`
      UPDATE work_items SET lease_owner = @owner, lease_expires_at = @expires
      WHERE id IN (
        SELECT id FROM work_items
        WHERE run_at <= @now AND (lease_owner IS NULL OR lease_expires_at <= @now)
        ORDER BY run_at, id
        LIMIT @max)
      RETURNING *`),
    finishWork: db.prepare<[string, string], { run_at: number }>(
      'DELETE FROM work_items WHERE id = ? AND lease_owner = ? RETURNING run_at',
    ),
    rescheduleWork: db.prepare<[number, number, string, string]>(`
      UPDATE work_items SET attempt = ?, run_at = ?, lease_owner = NULL, lease_expires_at = NULL
      WHERE id = ? AND lease_owner = ?`),
    moveWork: db.prepare<[string, string, string, string]>(
      'UPDATE work_items SET node = ?, message = ? WHERE id = ? AND lease_owner = ?',
    ),
    workEvent: db.prepare<[string], { received_at: number; headers: string; raw_body: string | null; test: number }>(
      'SELECT received_at, headers, raw_body, test FROM events WHERE id = ?',
    ),
    extendLease: db.prepare<[number, string, string], { id: string }>(
      'UPDATE work_items SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? RETURNING id',
    ),
    releaseLeases: db.prepare<[string]>(
      'UPDATE work_items SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?',
    ),
    pendingWork: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM work_items WHERE event_id = ?'),
    insertDeadLetter: db.prepare(`
      INSERT INTO dead_letters (id, event_id, flow_id, flow_version, node, error, message, created_at)
      VALUES (@id, @eventId, @flowId, @flowVersion, @node, @error, @message, @createdAt)`),
    openDeadLetters: db.prepare<[string], { n: number }>(
      'SELECT COUNT(*) AS n FROM dead_letters WHERE event_id = ? AND replayed_at IS NULL',
    ),
    latestVersion: db.prepare<[string], { version: number | null }>(
      'SELECT MAX(version) AS version FROM flow_versions WHERE flow_id = ?',
    ),
    insertFlowVersion: db.prepare(`
      INSERT INTO flow_versions (flow_id, version, name, document, hash, saved_at, saved_by)
      VALUES (@flowId, @version, @name, @document, @hash, @savedAt, @savedBy)`),
    hasFlowVersion: db.prepare<[string, number], { found: 1 }>(
      'SELECT 1 AS found FROM flow_versions WHERE flow_id = ? AND version = ?',
    ),
    deploy: db.prepare<[string, number, number, number | null, number | null]>(`
      INSERT INTO deployments (flow_id, version, deployed_at, canary_version, canary_percent) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (flow_id) DO UPDATE SET version = excluded.version, deployed_at = excluded.deployed_at,
        canary_version = excluded.canary_version, canary_percent = excluded.canary_percent`),
    replayTarget: db.prepare<[string], { flow_id: string | null; status: EventStatus }>(
      'SELECT flow_id, status FROM events WHERE id = ?',
    ),
    markReplayed: db.prepare<[number, string]>(
      'UPDATE dead_letters SET replayed_at = ? WHERE event_id = ? AND replayed_at IS NULL',
    ),
    purgeRawBodies: db.prepare<[string, number]>(
      'UPDATE events SET raw_body = NULL WHERE flow_id = ? AND received_at < ? AND raw_body IS NOT NULL',
    ),
  }

  /** Numbers the steps after the event's last one; `after` is known for a new event (0) and saves a query. */
  function appendSteps(eventId: string, steps: Step[], after?: number): void {
    if (steps.length === 0) return
    let seq = after ?? statements.lastStepSeq.get(eventId)?.seq ?? 0
    for (const step of steps) {
      seq += 1
      statements.insertStep.run({
        eventId,
        seq,
        node: step.node,
        kind: step.kind,
        phase: step.phase,
        port: step.port,
        attempt: step.attempt,
        startedAt: toMs(step.startedAt),
        durationMs: step.durationMs,
        step: JSON.stringify(step),
      })
    }
  }

  function mergeLineage(eventId: string, lineage: Record<string, Lineage>): void {
    for (const [node, fields] of Object.entries(lineage)) {
      statements.upsertLineage.run(eventId, node, JSON.stringify(fields))
    }
  }

  function queueWork(
    event: { id: string; flowId: string; flowVersion: number },
    work: WorkStart[],
    runAt: number,
  ): void {
    for (const start of work) {
      statements.insertWork.run({
        id: randomUUID(),
        eventId: event.id,
        flowId: event.flowId,
        flowVersion: event.flowVersion,
        node: start.node,
        message: JSON.stringify(start.message),
        runAt,
      })
    }
  }

  function addDeadLetters(
    event: { id: string; flowId: string; flowVersion: number },
    deadLetters: DeadLetter[],
    createdAt: number,
  ): void {
    for (const dead of deadLetters) {
      statements.insertDeadLetter.run({
        id: randomUUID(),
        eventId: event.id,
        flowId: event.flowId,
        flowVersion: event.flowVersion,
        node: dead.node,
        error: JSON.stringify(dead.error),
        message: JSON.stringify(dead.message),
        createdAt,
      })
    }
  }

  /** The event holding one of these keys now, other than `eventId` itself: an expired claim holds nothing. */
  function heldByAnother(claims: DedupeClaim[], eventId: string, now: number): string | undefined {
    for (const claim of claims) {
      const holder = statements.claimHolder.get(claim.scope, claim.key)
      if (holder && holder.event_id !== eventId && holder.expires_at > now) return holder.event_id
    }
    return undefined
  }

  function accept(delivery: AcceptedDelivery): AcceptResult {
    // The delivery's own clock decides which claims have expired and when its work is due, so a store
    // under an engine with a fixed clock behaves as it would in real time.
    const receivedAt = toMs(delivery.receivedAt)
    const event = { id: delivery.eventId, flowId: delivery.flowId, flowVersion: delivery.flowVersion }
    // The engine's claim check runs before this transaction; a claim taken meanwhile (another request,
    // another process) makes this delivery a duplicate of its holder, and nothing of it is queued.
    const holder = heldByAnother(delivery.claims, delivery.eventId, receivedAt)
    const duplicateOf = delivery.duplicateOf ?? holder
    statements.insertEvent.run({
      id: delivery.eventId,
      requestId: delivery.requestId,
      flowId: delivery.flowId,
      flowVersion: delivery.flowVersion,
      path: delivery.path,
      status: holder === undefined ? acceptedStatus(delivery) : 'duplicate',
      receivedAt,
      headers: JSON.stringify(delivery.headers),
      rawBody: delivery.rawBody,
      sizeBytes: Buffer.byteLength(delivery.rawBody, 'utf8'),
      duplicateOf: duplicateOf ?? null,
      test: delivery.test ? 1 : 0,
      rejection: null,
    })
    appendSteps(delivery.eventId, delivery.steps, 0)
    mergeLineage(delivery.eventId, delivery.lineage)
    if (holder === undefined) {
      for (const claim of delivery.claims) {
        statements.upsertClaim.run(claim.scope, claim.key, delivery.eventId, toMs(claim.expiresAt))
      }
      queueWork(event, delivery.work, receivedAt)
      addDeadLetters(event, delivery.deadLetters, receivedAt)
    }
    if (duplicateOf !== undefined) return { status: 'duplicate', eventId: delivery.eventId, duplicateOf }
    return { status: acceptedStatus(delivery) as 'accepted' | 'completed' | 'dead', eventId: delivery.eventId }
  }

  function recordRejection(rejection: RejectedDelivery): void {
    statements.insertEvent.run({
      id: rejection.eventId,
      requestId: rejection.requestId,
      flowId: rejection.flowId ?? null,
      flowVersion: rejection.flowVersion ?? null,
      path: rejection.path,
      status: 'rejected',
      receivedAt: toMs(rejection.receivedAt),
      headers: '{}',
      rawBody: null,
      sizeBytes: rejection.sizeBytes,
      duplicateOf: null,
      test: 0,
      rejection: JSON.stringify({
        status: rejection.status,
        code: rejection.code,
        message: rejection.message,
        ...(rejection.diagnosis === undefined ? {} : { diagnosis: rejection.diagnosis }),
        ...(rejection.details === undefined ? {} : { details: rejection.details }),
      }),
    })
  }

  function lease(owner: string, max: number, leaseMs: number, now: number): WorkItem[] {
    if (max <= 0) return []
    const rows = statements.lease.all({ owner, expires: now + leaseMs, now, max })
    rows.sort((a, b) => a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const events = new Map<string, WorkEvent | undefined>()
    for (const eventId of new Set(rows.map((row) => row.event_id))) {
      statements.startProcessing.run(now, eventId)
      const event = statements.workEvent.get(eventId)
      events.set(
        eventId,
        event && {
          receivedAt: toIso(event.received_at),
          headers: JSON.parse(event.headers) as Record<string, string>,
          rawBody: event.raw_body,
          test: event.test === 1,
        },
      )
    }
    return rows.map((row) => {
      const item = workItemFromRow(row)
      const event = events.get(row.event_id)
      return event ? { ...item, event } : item
    })
  }

  function settle(eventId: string, now: number): void {
    const current = statements.eventStatus.get(eventId)?.status
    if (current === undefined) return
    const open = statements.openDeadLetters.get(eventId)?.n ?? 0
    const pending = statements.pendingWork.get(eventId)?.n ?? 0
    statements.setEventStatus.run(settledStatus(current, open, pending), now, eventId)
  }

  function complete(item: WorkItem, outcome: WorkOutcome, now: number): void {
    // Only the lease holder may finish an item: after its lease expired another worker may own it.
    if (item.leaseOwner === undefined) return
    const finished = statements.finishWork.get(item.id, item.leaseOwner)
    if (!finished) return
    const event = { id: item.eventId, flowId: item.flowId, flowVersion: item.flowVersion }
    appendSteps(item.eventId, outcome.steps)
    mergeLineage(item.eventId, outcome.lineage)
    // Follow-up work is due at once, in its parent's place in the queue (never later than the parent was).
    queueWork(event, outcome.next, Math.min(finished.run_at, now))
    addDeadLetters(event, outcome.deadLetters, now)
    settle(item.eventId, now)
  }

  function retry(item: WorkItem, plan: RetryPlan, now: number): void {
    if (item.leaseOwner === undefined) return
    if (plan.resumeAt) {
      const { node, message } = plan.resumeAt
      statements.moveWork.run(node, JSON.stringify(message), item.id, item.leaseOwner)
    }
    const moved = statements.rescheduleWork.run(plan.attempt, toMs(plan.at), item.id, item.leaseOwner)
    if (moved.changes === 0) return
    appendSteps(item.eventId, plan.steps)
    if (plan.lineage) mergeLineage(item.eventId, plan.lineage)
    statements.touchEvent.run(now, item.eventId)
  }

  function saveFlowVersion(
    document: FlowDocument,
    canonical: string,
    hash: string,
    savedBy: string | null,
    now: number,
  ): FlowVersionRecord {
    const latest = statements.latestVersion.get(document.id)?.version ?? 0
    if (document.version !== latest + 1) throw new VersionConflict(document.id, document.version, latest)
    statements.insertFlowVersion.run({
      flowId: document.id,
      version: document.version,
      name: document.name,
      document: canonical,
      hash,
      savedAt: now,
      savedBy,
    })
    return { flowId: document.id, version: document.version, document, hash, savedAt: toIso(now), savedBy }
  }

  function deployFlow(flowId: string, version: number, canary: CanaryDeployment | undefined, now: number): void {
    if (!statements.hasFlowVersion.get(flowId, version)) throw new Error(`flow ${flowId} has no version ${version}`)
    if (canary) checkCanary(flowId, version, canary)
    statements.deploy.run(flowId, version, now, canary?.version ?? null, canary?.percent ?? null)
  }

  /** What PostgreSQL's constraints check there (003_canary.sql), checked here. */
  function checkCanary(flowId: string, version: number, canary: CanaryDeployment): void {
    if (!statements.hasFlowVersion.get(flowId, canary.version)) {
      throw new Error(`flow ${flowId} has no version ${canary.version}`)
    }
    if (canary.version === version)
      throw new Error(`flow ${flowId}: the canary must be another version than ${version}`)
    if (!Number.isInteger(canary.percent) || canary.percent < 1 || canary.percent > 99) {
      throw new RangeError(`flow ${flowId}: a canary takes 1 to 99 percent, not ${canary.percent}`)
    }
  }

  /**
   * A real replay of an event, under its own id (so its Idempotency-Keys stay the same): what it ran now
   * replaces its open dead letters, and its status follows as for a delivery just accepted.
   */
  function replayEvent(run: ReplayRun): { status: EventStatus } {
    const at = toMs(run.at)
    const target = statements.replayTarget.get(run.eventId)
    if (!target) throw new Error(`no event ${run.eventId} to replay`)
    if (target.flow_id === null || target.status === 'rejected') {
      throw new Error(`event ${run.eventId} was rejected: there is nothing to replay`)
    }
    const event = { id: run.eventId, flowId: target.flow_id, flowVersion: run.flowVersion }
    statements.markReplayed.run(at, run.eventId)
    appendSteps(run.eventId, run.steps)
    mergeLineage(run.eventId, run.lineage)
    queueWork(event, run.work, at)
    addDeadLetters(event, run.deadLetters, at)
    const open = statements.openDeadLetters.get(run.eventId)?.n ?? 0
    const pending = statements.pendingWork.get(run.eventId)?.n ?? 0
    const status = replayedStatus(target.status, open, pending)
    statements.setEventStatus.run(status, at, run.eventId)
    return { status }
  }

  const admin = prepareAdminWrites(db)
  const reconcile = prepareReconcileWrites(db, { queueWork, addDeadLetters, mergeLineage })

  return (command) => {
    switch (command.op) {
      case 'accept':
        return accept(command.delivery)
      case 'recordRejection':
        return recordRejection(command.rejection)
      case 'lease':
        return lease(command.owner, command.max, command.leaseMs, command.now)
      case 'complete':
        return complete(command.item, command.outcome, command.now)
      case 'retry':
        return retry(command.item, command.plan, command.now)
      case 'extendLeases':
        return command.itemIds
          .flatMap((id) => statements.extendLease.all(command.expires, id, command.owner))
          .map((row) => row.id)
      case 'releaseLeases':
        return statements.releaseLeases.run(command.owner).changes
      case 'saveFlowVersion':
        return saveFlowVersion(command.document, command.canonical, command.hash, command.savedBy, command.now)
      case 'deployFlow':
        return deployFlow(command.flowId, command.version, command.canary, command.now)
      case 'purgeRawPayloads':
        return statements.purgeRawBodies.run(command.flowId, command.before).changes
      case 'purgeExpiredClaims':
        return statements.purgeClaims.run(command.now).changes
      case 'replayEvent':
        return replayEvent(command.run)
      case 'resumeEvent':
        return reconcile.resumeEvent(command.eventId, command.at, command.restart)
      case 'deadLetterEvent':
        return reconcile.deadLetterEvent(command.eventId, command.reason, command.by, command.at)
      case 'createToken':
        return admin.createToken(command.token, command.now)
      case 'touchToken':
        return admin.touchToken(command.id, command.now)
      case 'revokeToken':
        return admin.revokeToken(command.id, command.now)
      case 'putSecret':
        return admin.putSecret(command.secret, command.now)
      case 'appendAudit':
        return admin.appendAudit(command.entry)
      case 'settings':
        return {
          journalMode: String(db.pragma('journal_mode', { simple: true })),
          synchronous: Number(db.pragma('synchronous', { simple: true })),
          foreignKeys: db.pragma('foreign_keys', { simple: true }) === 1,
        } satisfies WriterSettings
    }
  }
}
