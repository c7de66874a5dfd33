/** @module Admin API: the dead-letter list, and replaying a selection of it (by ids, or every open one of a flow). */
import { Type } from '@sinclair/typebox'
import type { Request } from 'express'
import type { StoredDeadLetter } from '../../store/store.ts'
import { InvalidCursor, MAX_PAGE_LIMIT } from '../../store/store-paging.ts'
import { bodyChecker } from './body-check.ts'
import type { ApiDeps } from './deps.ts'
import { badParameter, cursorParameter, limitParameter, queryParameter } from './events.ts'
import {
  MAX_BULK_REPLAY,
  previewReplay,
  type ReplayPreview,
  type ReplayRequestBody,
  type ReplayResult,
  replayBodyFields,
  replayEvent,
  replayRequest,
  replayRole,
} from './replay.ts'
import { ApiError, type Caller, defineRoutes } from './route.ts'
import { invalidField } from './test-run.ts'

export interface BulkReplayFailure {
  /** Null when the dead letter itself was not found (or is no longer open). */
  eventId: string | null
  deadLetterId?: string
  code: string
  error: string
}

const bulkReplayBody = Type.Object(
  {
    ids: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'dead-letter ids' })),
    flow: Type.Optional(
      Type.String({ minLength: 1, description: 'every open dead letter of this flow (with ids: only those of it)' }),
    ),
    ...replayBodyFields,
  },
  { additionalProperties: false },
)

const checkBulkReplayBody = bodyChecker<ReplayRequestBody & { ids?: string[]; flow?: string }>(bulkReplayBody)

export const deadLetterRoutes = defineRoutes([
  {
    method: 'get',
    path: '/dead-letters',
    role: 'viewer',
    summary: 'Open dead letters, newest first',
    query: {
      flow: { type: 'string', description: 'a flow id' },
      limit: { type: 'integer', description: `1…${MAX_PAGE_LIMIT}` },
      cursor: { type: 'string', description: 'nextCursor of the previous page' },
      includeReplayed: { type: 'boolean', description: 'also the ones a replay has taken' },
    },
    responses: { 200: '{items, nextCursor}', 400: 'a bad query parameter, named in details.parameter' },
    async handler(req, res, { deps }) {
      const query = req.query as Record<string, unknown>
      const filter: Parameters<ApiDeps['store']['listDeadLetters']>[0] = {}
      const flow = queryParameter(query, 'flow')
      if (flow !== undefined) filter.flow = flow
      const limit = limitParameter(query)
      if (limit !== undefined) filter.limit = limit
      const cursor = cursorParameter(query)
      if (cursor !== undefined) filter.cursor = cursor
      const includeReplayed = queryParameter(query, 'includeReplayed')
      if (includeReplayed !== undefined) {
        if (includeReplayed !== 'true' && includeReplayed !== 'false') {
          throw badParameter('includeReplayed', 'includeReplayed must be true or false')
        }
        filter.includeReplayed = includeReplayed === 'true'
      }
      try {
        res.json(await deps.store.listDeadLetters(filter))
      } catch (error) {
        if (error instanceof InvalidCursor) throw badParameter('cursor', 'cursor is not one this API gave')
        throw error
      }
    },
  },
  {
    method: 'post',
    path: '/dead-letters/replay',
    role: replayRole,
    summary: 'Replays the events of the chosen dead letters (ids, or every open one of a flow)',
    body: bulkReplayBody,
    responses: {
      200: 'preview: {preview: true, previews, failed}',
      202: '{replayed: [{eventId, status, version}], failed: [{eventId, code, error}], truncated}',
      400: 'neither ids nor flow, or no reason',
    },
    async handler(req, res, { deps, caller }) {
      const answer = await replayDeadLetters(deps, caller, req)
      res.status('preview' in answer ? 200 : 202).json(answer)
    },
  },
])

async function replayDeadLetters(deps: ApiDeps, caller: Caller, req: Request) {
  const body = checkBulkReplayBody(req.body ?? {})
  const request = replayRequest(body)
  const ids = body.ids === undefined || body.ids.length === 0 ? undefined : [...new Set(body.ids)]
  const { flow } = body
  if (ids === undefined && flow === undefined) {
    throw invalidField('ids', 'required', 'choose the dead letters: ids, or flow for every open one of a flow')
  }
  const { eventIds, missing, truncated } = await selectEvents(deps, ids, flow)
  const failed: BulkReplayFailure[] = missing.map((id) => ({
    eventId: null,
    deadLetterId: id,
    code: 'not_found',
    error: `no open dead letter ${id}${flow === undefined ? '' : ` of flow "${flow}"`}`,
  }))
  const previews: ReplayPreview[] = []
  const replayed: ReplayResult[] = []
  for (const eventId of eventIds) {
    try {
      if (request.preview) previews.push(await previewReplay(deps, eventId, request.version))
      else {
        replayed.push(
          await replayEvent(deps, caller, eventId, {
            reason: request.reason as string,
            ...(request.version === undefined ? {} : { version: request.version }),
          }),
        )
      }
    } catch (error) {
      if (!(error instanceof ApiError)) deps.logger.error({ err: error, eventId }, 'replaying a dead letter failed')
      failed.push({
        eventId,
        code: error instanceof ApiError ? error.code : 'internal',
        error: error instanceof ApiError ? error.message : 'the replay failed; see the runtime log',
      })
    }
  }
  return request.preview ? { preview: true, previews, failed, truncated } : { replayed, failed, truncated }
}

/** The distinct events of the selected open dead letters, oldest first; ids that are not open dead letters. */
async function selectEvents(
  deps: ApiDeps,
  ids: string[] | undefined,
  flow: string | undefined,
): Promise<{ eventIds: string[]; missing: string[]; truncated: boolean }> {
  const letters: StoredDeadLetter[] = []
  const events = new Set<string>()
  let cursor: string | null = null
  let truncated = false
  do {
    const page = await deps.store.listDeadLetters({
      ...(ids === undefined ? {} : { ids }),
      ...(flow === undefined ? {} : { flow }),
      limit: MAX_PAGE_LIMIT,
      ...(cursor === null ? {} : { cursor }),
    })
    for (const letter of page.items) {
      letters.push(letter)
      events.add(letter.eventId)
    }
    cursor = page.nextCursor
    if (events.size >= MAX_BULK_REPLAY && cursor !== null) truncated = true
  } while (cursor !== null && !truncated)
  // The list is newest first: replay in the order the events failed.
  const ordered = [...new Set(letters.reverse().map((letter) => letter.eventId))]
  if (ordered.length > MAX_BULK_REPLAY) truncated = true
  const found = new Set(letters.map((letter) => letter.id))
  return {
    eventIds: ordered.slice(0, MAX_BULK_REPLAY),
    missing: ids === undefined ? [] : ids.filter((id) => !found.has(id)),
    truncated,
  }
}
