/** @module Admin API: events — the list, one event with its steps, attempts and lineage, and replay. */
import type { Request } from 'express'
import { restoreStepInputs } from '../../engine/step-inputs.ts'
import type { Step } from '../../engine/types.ts'
import type { ErrorCategory } from '../../model/types.ts'
import type { EventFilter, EventStatus, StoredEvent } from '../../store/store.ts'
import { decodeCursor, InvalidCursor, MAX_PAGE_LIMIT } from '../../store/store-paging.ts'
import {
  checkReplayBody,
  previewReplay,
  replayBody,
  replayEvent,
  replayRequest,
  replayRole,
  runPath,
  splitRuns,
} from './replay.ts'
import { ApiError, defineRoutes } from './route.ts'

export const EVENT_STATUSES: readonly EventStatus[] = [
  'accepted',
  'processing',
  'completed',
  'dead',
  'rejected',
  'duplicate',
]

/** One attempt of a work node, as the event page lists them. */
export interface Attempt {
  /** 0 for the run at receipt, then 1, 2… for each real replay. */
  run: number
  node: string
  kind: string
  attempt: number
  startedAt: string
  durationMs: number
  port: string | null
  /** `ok`; `retried` when a later attempt followed; `failed` when it was the last. */
  outcome: 'ok' | 'retried' | 'failed'
  errorCategory?: ErrorCategory
  error?: string
  /** The downstream's HTTP status, when there was an answer. */
  status?: number
}

export const eventRoutes = defineRoutes([
  {
    method: 'get',
    path: '/events',
    role: 'viewer',
    summary: 'Events, newest first (without their raw bodies, to keep pages small)',
    query: {
      flow: { type: 'string', description: 'a flow id' },
      status: { type: 'string', description: EVENT_STATUSES.join(', ') },
      limit: { type: 'integer', description: `1…${MAX_PAGE_LIMIT}` },
      cursor: { type: 'string', description: 'nextCursor of the previous page' },
      since: { type: 'string', description: 'received at or after (ISO time)' },
      until: { type: 'string', description: 'received before (ISO time)' },
      test: { type: 'boolean', description: 'only test-marked events (true) or only real ones (false)' },
    },
    responses: { 200: '{items, nextCursor}', 400: 'a bad query parameter, named in details.parameter' },
    async handler(req, res, { deps }) {
      const filter = readEventFilter(req)
      let page: Awaited<ReturnType<typeof deps.store.listEvents>>
      try {
        page = await deps.store.listEvents(filter)
      } catch (error) {
        if (error instanceof InvalidCursor) throw badParameter('cursor', 'cursor is not one this API gave')
        throw error
      }
      res.json({ items: page.items.map(withoutRawBody), nextCursor: page.nextCursor })
    },
  },
  {
    method: 'get',
    path: '/events/:id',
    role: 'viewer',
    summary: 'One event: raw body, masked headers, steps, attempts, lineage, dead letters',
    responses: { 200: 'the event', 404: 'no such event' },
    async handler(req, res, { deps }) {
      const event = await deps.store.getEvent(param(req, 'id'))
      if (!event) throw noEvent(param(req, 'id'))
      const steps = restoreStepInputs(event.steps)
      res.json({
        ...event,
        steps,
        attempts: attemptsOf(steps),
        runs: splitRuns(steps).map((run, index) => ({
          run: index,
          version: run.replay?.version ?? event.flowVersion,
          at: run.replay?.at ?? event.receivedAt,
          by: run.replay?.by ?? null,
          path: runPath(run.steps),
        })),
      })
    },
  },
  {
    method: 'get',
    path: '/events/:id/lineage',
    role: 'viewer',
    summary: 'Field lineage of an event: per transform node, each output field and the input fields it came from',
    responses: { 200: '{eventId, lineage}', 404: 'no such event' },
    async handler(req, res, { deps }) {
      const event = await deps.store.getEvent(param(req, 'id'))
      if (!event) throw noEvent(param(req, 'id'))
      res.json({ eventId: event.id, lineage: event.lineage })
    },
  },
  {
    method: 'post',
    path: '/events/:id/replay',
    role: replayRole,
    summary: 'Replays an event (on its first version or a chosen one); preview: runs it without side effects',
    body: replayBody,
    responses: {
      200: 'preview: {preview: true, outcome, steps, lineage, changes}',
      202: '{eventId, status, version}',
      400: 'no reason given',
      404: 'no such event or version',
      409: 'the event still has work pending, or was refused at receipt',
      410: 'the raw body was removed by retention',
      422: 'the chosen version refuses the event in its guard phase',
    },
    async handler(req, res, { deps, caller }) {
      const request = replayRequest(checkReplayBody(req.body ?? {}))
      const eventId = param(req, 'id')
      if (request.preview) {
        res.json(await previewReplay(deps, eventId, request.version))
        return
      }
      const result = await replayEvent(deps, caller, eventId, {
        reason: request.reason as string,
        ...(request.version === undefined ? {} : { version: request.version }),
      })
      res.status(202).json(result)
    },
  },
])

function readEventFilter(req: Request): EventFilter {
  const query = req.query as Record<string, unknown>
  const filter: EventFilter = {}
  const flow = queryParameter(query, 'flow')
  if (flow !== undefined) filter.flow = flow
  const status = queryParameter(query, 'status')
  if (status !== undefined) {
    if (!EVENT_STATUSES.includes(status as EventStatus)) {
      throw badParameter('status', `status must be one of ${EVENT_STATUSES.join(', ')}`)
    }
    filter.status = status as EventStatus
  }
  const limit = limitParameter(query)
  if (limit !== undefined) filter.limit = limit
  const cursor = cursorParameter(query)
  if (cursor !== undefined) filter.cursor = cursor
  for (const name of ['since', 'until'] as const) {
    const value = queryParameter(query, name)
    if (value === undefined) continue
    if (Number.isNaN(Date.parse(value))) throw badParameter(name, `${name} must be an ISO date or time`)
    filter[name] = new Date(value).toISOString()
  }
  const test = queryParameter(query, 'test')
  if (test !== undefined) {
    if (test !== 'true' && test !== 'false') throw badParameter('test', 'test must be true or false')
    filter.test = test === 'true'
  }
  return filter
}

/** A query parameter given once; repeated or nested ones are a 400 naming it. */
export function queryParameter(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name]
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string') throw badParameter(name, `${name} must be given once, as a plain value`)
  return value
}

/** `limit`: a page size from 1 to MAX_PAGE_LIMIT. */
export function limitParameter(query: Record<string, unknown>): number | undefined {
  const limit = queryParameter(query, 'limit')
  if (limit === undefined) return undefined
  const n = Number(limit)
  if (!/^\d+$/.test(limit) || n < 1 || n > MAX_PAGE_LIMIT) {
    throw badParameter('limit', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`)
  }
  return n
}

/** `cursor`: the nextCursor of a page this API gave. */
export function cursorParameter(query: Record<string, unknown>): string | undefined {
  const cursor = queryParameter(query, 'cursor')
  if (cursor === undefined) return undefined
  try {
    decodeCursor(cursor)
  } catch {
    throw badParameter('cursor', 'cursor is not one this API gave')
  }
  return cursor
}

export function badParameter(parameter: string, message: string): ApiError {
  return new ApiError(400, 'invalid_query', message, { parameter })
}

function withoutRawBody(event: StoredEvent): Omit<StoredEvent, 'rawBody'> {
  const { rawBody: _rawBody, ...rest } = event
  return rest
}

/** The work nodes' attempts, in the order they ran, run by run (receipt, then each replay). */
export function attemptsOf(steps: readonly Step[]): Attempt[] {
  return splitRuns(steps).flatMap((run, index) => runAttempts(run.steps, index))
}

function runAttempts(steps: readonly Step[], run: number): Attempt[] {
  const work = steps.filter((step) => step.phase === 'work')
  return work.map((step, index) => {
    const retriedLater = work.slice(index + 1).some((later) => later.node === step.node && later.attempt > step.attempt)
    const attempt: Attempt = {
      run,
      node: step.node,
      kind: step.kind,
      attempt: step.attempt,
      startedAt: step.startedAt,
      durationMs: step.durationMs,
      port: step.port,
      outcome: step.error === undefined ? 'ok' : retriedLater ? 'retried' : 'failed',
    }
    if (step.error) {
      attempt.errorCategory = step.error.category
      attempt.error = step.error.message
      if (step.error.status !== undefined) attempt.status = step.error.status
    } else if (step.response) attempt.status = step.response.status
    return attempt
  })
}

function noEvent(id: string): ApiError {
  return new ApiError(404, 'not_found', `no event ${id}`)
}

function param(req: Request, name: string): string {
  return String(req.params[name])
}
