/**
 * @module Admin API: reconciliation — events accepted longer ago than a threshold with no terminal state,
 * each with why it is stuck, and an operator's way out for each: resume it, or move it to the dead letters.
 *
 * Listing is for viewers (it shows what the events list and the dead letters already show, no raw body);
 * acting is for operators, with a reason that goes to the audit log.
 */
import { Type } from '@sinclair/typebox'
import type { Request } from 'express'
import { runGuard } from '../../engine/run.ts'
import type { EngineEvent } from '../../engine/types.ts'
import type { EventDetail, EventRestart, OpenStatus, UnreconciledEvent } from '../../store/store.ts'
import { OPEN_STATUSES } from '../../store/store.ts'
import { InvalidCursor } from '../../store/store-paging.ts'
import { DEFAULT_RECONCILE_AFTER_MS } from '../unreconciled-count.ts'
import { bodyChecker } from './body-check.ts'
import type { ApiDeps } from './deps.ts'
import { badParameter, cursorParameter, limitParameter, queryParameter } from './events.ts'
import { REASON_MAX } from './replay.ts'
import { ApiError, type Caller, defineRoutes } from './route.ts'
import { checkOnlyServices, invalidField } from './test-run.ts'

export const RECONCILE_ACTIONS = ['resume', 'dead-letter'] as const
export type ReconcileAction = (typeof RECONCILE_ACTIONS)[number]

/** One item of GET /api/reconcile: the store's view, its age, and why it is stuck in words. */
export type UnreconciledItem = UnreconciledEvent & { ageMs: number; why: string }

export interface UnreconciledList {
  olderThanMs: number
  /** Events received before this time are listed. */
  before: string
  items: UnreconciledItem[]
  nextCursor: string | null
}

export interface ReconcileResult {
  eventId: string
  action: ReconcileAction
  /** `due` (pending work made due now), `restarted` (the work phase queued again) or `dead`. */
  outcome: 'due' | 'restarted' | 'dead'
  status: string
  /** Work items queued for it after a resume. */
  items?: number
  /** The dead letters a dead-letter made. */
  deadLetters?: string[]
}

const reconcileBody = Type.Object(
  {
    action: Type.Union(
      RECONCILE_ACTIONS.map((action) => Type.Literal(action)),
      { description: 'resume: run its pending work now, or queue its work phase again; dead-letter: give it up' },
    ),
    reason: Type.String({ minLength: 1, maxLength: REASON_MAX, description: 'why, kept in the audit log' }),
  },
  { additionalProperties: false },
)

const checkReconcileBody = bodyChecker<{ action: ReconcileAction; reason: string }>(reconcileBody)

export const reconcileRoutes = defineRoutes([
  {
    method: 'get',
    path: '/reconcile',
    role: 'viewer',
    summary:
      'Unreconciled events: accepted longer ago than the threshold with no terminal state, and why each is stuck',
    query: {
      olderThanMs: {
        type: 'integer',
        description: 'the threshold in ms (default: the runtime’s --reconcile-after-ms)',
      },
      flow: { type: 'string', description: 'a flow id' },
      limit: { type: 'integer', description: 'page size' },
      cursor: { type: 'string', description: 'nextCursor of the previous page' },
    },
    responses: {
      200: '{olderThanMs, before, items: [{id, flowId, status, state, why, work, lastStep, ageMs}], nextCursor}',
      400: 'a bad query parameter, named in details.parameter',
    },
    async handler(req, res, { deps }) {
      res.json(await listUnreconciled(deps, req))
    },
  },
  {
    method: 'post',
    path: '/reconcile/:eventId',
    role: 'operator',
    summary: 'Resumes an open event or moves it to the dead letters, with a reason (audited)',
    body: reconcileBody,
    responses: {
      200: '{eventId, action, outcome, status, items?, deadLetters?}',
      400: 'no action or no reason',
      404: 'no such event',
      409: 'the event is settled (completed, dead, rejected, duplicate): nothing to reconcile',
      410: 'resume: the raw body was removed by retention (dead-letter it instead)',
      422: 'resume: its version now refuses the event in its guard phase',
    },
    async handler(req, res, { deps, caller }) {
      const { action, reason } = checkReconcileBody(req.body ?? {})
      if (reason.trim() === '') throw invalidField('reason', 'required', 'is required: it is written to the audit log')
      const eventId = String(req.params.eventId)
      const result =
        action === 'resume'
          ? await resume(deps, caller, eventId, reason.trim())
          : await deadLetter(deps, caller, eventId, reason.trim())
      res.json(result)
    },
  },
])

async function listUnreconciled(deps: ApiDeps, req: Request): Promise<UnreconciledList> {
  const query = req.query as Record<string, unknown>
  const olderThanMs = olderThanParameter(query) ?? deps.reconcileAfterMs ?? DEFAULT_RECONCILE_AFTER_MS
  const flow = queryParameter(query, 'flow')
  const limit = limitParameter(query)
  const cursor = cursorParameter(query)
  const nowMs = deps.now()
  const before = new Date(nowMs - olderThanMs)
  let page: Awaited<ReturnType<ApiDeps['store']['listUnreconciled']>>
  try {
    page = await deps.store.listUnreconciled({
      olderThan: before,
      now: new Date(nowMs),
      ...(flow === undefined ? {} : { flow }),
      ...(limit === undefined ? {} : { limit }),
      ...(cursor === undefined ? {} : { cursor }),
    })
  } catch (error) {
    if (error instanceof InvalidCursor) throw badParameter('cursor', 'cursor is not one this API gave')
    throw error
  }
  return {
    olderThanMs,
    before: before.toISOString(),
    items: page.items.map((event) => ({
      ...event,
      ageMs: nowMs - Date.parse(event.receivedAt),
      why: whyUnreconciled(event, nowMs),
    })),
    nextCursor: page.nextCursor,
  }
}

function olderThanParameter(query: Record<string, unknown>): number | undefined {
  const text = queryParameter(query, 'olderThanMs')
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text)) throw badParameter('olderThanMs', 'olderThanMs must be a whole number of milliseconds')
  return Number(text)
}

/** What an operator reads first: why the event has not settled, and what would move it. */
export function whyUnreconciled(event: UnreconciledEvent, nowMs: number): string {
  const item = event.work[0]
  const node = item ? `${item.node} (attempt ${item.attempt})` : ''
  const others = event.work.length > 1 ? ` and ${event.work.length - 1} more item(s)` : ''
  switch (event.state) {
    case 'no_work':
      return 'nothing is queued or running for it: its work was lost; resume queues its work phase again'
    case 'leased': {
      const held = event.work.find((w) => w.leaseOwner !== null && Date.parse(w.leaseExpiresAt ?? '') > nowMs)
      return (
        `${held?.leaseOwner} is running ${held?.node} (attempt ${held?.attempt}), lease until ${held?.leaseExpiresAt}` +
        `${others}; if it hangs (a downstream that never answers), resume gives the lease up and runs it again now`
      )
    }
    case 'lease_expired': {
      const held = event.work.find((w) => w.leaseOwner !== null)
      return (
        `the lease of ${held?.leaseOwner} on ${held?.node} expired at ${held?.leaseExpiresAt} (a crashed process?) ` +
        'and no worker took it since: are workers running (not --no-workers) and reaching the store?'
      )
    }
    case 'due':
      return `${node} has been due since ${item?.runAt}${others} and no worker took it: are workers running, is the queue lagging?`
    case 'retry_scheduled': {
      const error = event.lastStep?.error
        ? ` after ${event.lastStep.error.category}: ${event.lastStep.error.message}`
        : ''
      return `${node} waits for its retry at ${item?.runAt}${error}${others}; resume runs it now`
    }
  }
}

async function openEvent(
  deps: ApiDeps,
  eventId: string,
): Promise<EventDetail & { flowId: string; flowVersion: number }> {
  const event = await deps.store.getEvent(eventId)
  if (!event) throw new ApiError(404, 'not_found', `no event ${eventId}`)
  if (!isOpen(event.status) || event.flowId === null || event.flowVersion === null) throw settled(eventId, event.status)
  return event as EventDetail & { flowId: string; flowVersion: number }
}

async function resume(deps: ApiDeps, caller: Caller, eventId: string, reason: string): Promise<ReconcileResult> {
  const event = await openEvent(deps, eventId)
  const at = new Date(deps.now()).toISOString()
  // With work pending the store makes it due; without, the work phase is queued again (the store decides which
  // in its transaction, so a restart computed here is used only when no work turned up meanwhile).
  let restart = event.pendingWork === 0 ? await restartOf(deps, event) : undefined
  let outcome = await deps.store.resumeEvent(eventId, { at, ...(restart ? { restart } : {}) })
  if (outcome.outcome === 'no_work') {
    restart = await restartOf(deps, event)
    outcome = await deps.store.resumeEvent(eventId, { at, restart })
  }
  if (outcome.outcome === 'not_found') throw new ApiError(404, 'not_found', `no event ${eventId}`)
  if (outcome.outcome === 'settled' || outcome.outcome === 'no_work') throw settled(eventId, outcome.status)
  deps.onQueued()
  await deps.store.appendAudit({
    actor: caller.name,
    action: 'reconcile.resume',
    target: `event:${eventId}`,
    reason,
    details: {
      flowId: event.flowId,
      version: event.flowVersion,
      previousStatus: event.status,
      outcome: outcome.outcome,
      items: outcome.items,
    },
  })
  deps.bus.publish({
    type: 'event',
    eventId,
    flowId: event.flowId,
    flowVersion: event.flowVersion,
    status: outcome.status,
    at,
  })
  deps.logger.info(
    { eventId, flowId: event.flowId, flowVersion: event.flowVersion, actor: caller.name, outcome: outcome.outcome },
    'event resumed',
  )
  return { eventId, action: 'resume', outcome: outcome.outcome, status: outcome.status, items: outcome.items }
}

/**
 * An event with no work pending starts its work phase again: its guard phase runs again on the version that
 * took it (verify skipped: it was checked at receipt; its own dedupe claims count as its own), from the raw
 * body as stored, and what that queues is the restart. Not from its recorded steps: those are redacted
 * (retention.redact) and would send placeholders downstream. Effects that already happened run again under
 * the same event id, so with the same Idempotency-Keys.
 */
async function restartOf(deps: ApiDeps, event: EventDetail & { flowId: string; flowVersion: number }) {
  if (event.rawBody === null) {
    throw new ApiError(
      410,
      'raw_body_gone',
      `the raw body of event ${event.id} was removed by retention: it cannot run again; dead-letter it instead`,
    )
  }
  const flow = await deps.registry.version(event.flowId, event.flowVersion)
  const engineEvent: EngineEvent = {
    id: event.id,
    receivedAt: event.receivedAt,
    flowId: event.flowId,
    flowVersion: event.flowVersion,
    headers: event.headers,
    rawBody: event.rawBody,
  }
  const run = await runGuard(flow, engineEvent, checkOnlyServices(deps, event.id), {
    sideEffects: !event.test,
    skipVerify: true,
  })
  if (run.rejection) {
    throw new ApiError(
      422,
      'resume_rejected',
      `version ${event.flowVersion} refuses event ${event.id} at ${run.rejection.node ?? 'the entry'}: ${run.rejection.message}`,
      run.rejection,
    )
  }
  if (run.duplicateOf !== undefined) {
    throw new ApiError(
      409,
      'claimed_by_another',
      `event ${event.id}'s dedupe key is now held by ${run.duplicateOf}: dead-letter it instead`,
    )
  }
  return { work: run.work, deadLetters: run.deadLetters, lineage: run.lineage } satisfies EventRestart
}

async function deadLetter(deps: ApiDeps, caller: Caller, eventId: string, reason: string): Promise<ReconcileResult> {
  const event = await openEvent(deps, eventId)
  const at = new Date(deps.now()).toISOString()
  const outcome = await deps.store.deadLetterEvent(eventId, { reason, by: caller.name, at })
  if (outcome.outcome === 'not_found') throw new ApiError(404, 'not_found', `no event ${eventId}`)
  if (outcome.outcome === 'settled') throw settled(eventId, outcome.status)
  await deps.store.appendAudit({
    actor: caller.name,
    action: 'reconcile.dead-letter',
    target: `event:${eventId}`,
    reason,
    details: {
      flowId: event.flowId,
      version: event.flowVersion,
      previousStatus: event.status,
      deadLetters: outcome.deadLetters,
      removedWork: outcome.removedWork,
    },
  })
  deps.bus.publish({ type: 'event', eventId, flowId: event.flowId, flowVersion: event.flowVersion, status: 'dead', at })
  deps.logger.warn({ eventId, flowId: event.flowId, actor: caller.name, reason }, 'event dead-lettered by an operator')
  return { eventId, action: 'dead-letter', outcome: 'dead', status: 'dead', deadLetters: outcome.deadLetters }
}

function isOpen(status: string): status is OpenStatus {
  return (OPEN_STATUSES as readonly string[]).includes(status)
}

function settled(eventId: string, status: string): ApiError {
  return new ApiError(
    409,
    'settled',
    `event ${eventId} is ${status}: only accepted or processing events are reconciled`,
  )
}
