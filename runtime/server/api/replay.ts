/**
 * @module Replay, shared by POST /api/events/:id/replay and POST /api/dead-letters/replay: a preview that
 * runs the stored event again without side effects and shows what would change, and a real replay that
 * runs its guard phase again on the chosen version and queues the rest under the same event id (so the
 * Idempotency-Keys downstream are the same).
 */
import { Type } from '@sinclair/typebox'
import type { Request } from 'express'
import type { CompiledFlow } from '../../engine/compile.ts'
import { runGuard } from '../../engine/run.ts'
import { restoreStepInputs } from '../../engine/step-inputs.ts'
import type { EngineEvent, Step } from '../../engine/types.ts'
import { canonicalJson } from '../../model/canonical-json.ts'
import type { EventDetail, EventStatus, Role } from '../../store/store.ts'
import { bodyChecker } from './body-check.ts'
import type { ApiDeps } from './deps.ts'
import { ApiError, type Caller } from './route.ts'
import { checkOnlyServices, type DryRun, dryRun, invalidField } from './test-run.ts'

/** The most events one bulk dead-letter replay takes; the rest stay listed for the next request. */
export const MAX_BULK_REPLAY = 1_000

/** What a replay run writes on its first step, so that an event's runs can be told apart later. */
export interface ReplayMark {
  version: number
  by: string
  at: string
}

export interface ReplayRequest {
  version?: number
  preview: boolean
  reason?: string
}

/** `[node, port]` of each node a run went through, a node's retries folded into its last attempt. */
export type RunPath = Array<[string, string | null]>

export interface ReplayChanges {
  path: { before: RunPath; after: RunPath; changed: boolean }
  /** Nodes in both runs whose output differs (for http nodes: the request they send). */
  outputs: Array<{ node: string; before: unknown; after: unknown }>
  /** Nodes in both runs whose output is the same. */
  unchanged: string[]
  /** Nodes only the new run reaches, and nodes only the first run reached. */
  added: string[]
  removed: string[]
}

export interface ReplayPreview extends DryRun {
  preview: true
  eventId: string
  version: number
  changes: ReplayChanges
}

export interface ReplayResult {
  eventId: string
  status: EventStatus
  version: number
}

/** Replay previews are for editors; real replays for operators. */
export function replayRole(req: Request): Role {
  return isPreview(req.body) ? 'editor' : 'operator'
}

function isPreview(body: unknown): boolean {
  return (body as { preview?: unknown } | undefined)?.preview === true
}

/** The most characters of a replay's reason kept in the audit log. */
export const REASON_MAX = 500

export const replayBodyFields = {
  version: Type.Optional(
    Type.Integer({ minimum: 1, description: 'the version to run; default: the one that first ran it' }),
  ),
  preview: Type.Optional(Type.Boolean({ description: 'run without side effects and show what would change' })),
  reason: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: REASON_MAX,
      description: 'why: required for a real replay, kept in the audit log',
    }),
  ),
}

export const replayBody = Type.Object(replayBodyFields, { additionalProperties: false })

export interface ReplayRequestBody {
  version?: number
  preview?: boolean
  reason?: string
}

export const checkReplayBody = bodyChecker<ReplayRequestBody>(replayBody)

/** What to replay and how, from a checked body; a real replay needs a reason (400 naming `reason`). */
export function replayRequest({ version, preview, reason }: ReplayRequestBody): ReplayRequest {
  const request: ReplayRequest = { preview: preview === true }
  if (version !== undefined) request.version = version
  if (reason !== undefined && reason.trim() !== '') request.reason = reason.trim()
  if (!request.preview && request.reason === undefined) {
    throw invalidField('reason', 'required', 'is required for a real replay: it is written to the audit log')
  }
  return request
}

type ReplayableEvent = EventDetail & { flowId: string; flowVersion: number; rawBody: string }

/** The event to replay: 404 unknown, 409 refused at receipt (nothing ran), 410 raw body removed by retention. */
export async function replayableEvent(deps: ApiDeps, eventId: string): Promise<ReplayableEvent> {
  const event = await deps.store.getEvent(eventId)
  if (!event) throw new ApiError(404, 'not_found', `no event ${eventId}`)
  if (event.status === 'rejected' || event.flowId === null || event.flowVersion === null) {
    throw new ApiError(
      409,
      'not_replayable',
      `event ${eventId} was refused at receipt: no flow ran it, nothing to replay`,
    )
  }
  if (event.rawBody === null) {
    throw new ApiError(410, 'raw_body_gone', `the raw body of event ${eventId} was removed by retention`)
  }
  return event as ReplayableEvent
}

/** The compiled version to replay on: the chosen one, else the one that first ran the event. */
async function versionToRun(deps: ApiDeps, event: ReplayableEvent, version?: number): Promise<CompiledFlow> {
  const chosen = version ?? event.flowVersion
  const record = await deps.store.getFlowVersion(event.flowId, chosen)
  if (!record) throw new ApiError(404, 'not_found', `flow "${event.flowId}" has no version ${chosen}`)
  return deps.registry.version(event.flowId, chosen)
}

function engineEvent(event: ReplayableEvent, flow: CompiledFlow): EngineEvent {
  return {
    id: event.id,
    receivedAt: event.receivedAt,
    flowId: event.flowId,
    flowVersion: flow.doc.version,
    headers: event.headers,
    rawBody: event.rawBody,
  }
}

/**
 * Runs the stored event again to the end without side effects and compares with its first run. Writes
 * nothing and calls no downstream. Verify is skipped: the signature was checked at receipt, its timestamp
 * is stale by now, and the stored headers are masked.
 */
export async function previewReplay(deps: ApiDeps, eventId: string, version?: number): Promise<ReplayPreview> {
  const event = await replayableEvent(deps, eventId)
  const flow = await versionToRun(deps, event, version)
  const run = await dryRun(deps, flow, engineEvent(event, flow), { skipVerify: true, ownEventId: event.id })
  const first = splitRuns(restoreStepInputs(event.steps))[0]?.steps ?? []
  return {
    preview: true,
    eventId: event.id,
    version: flow.doc.version,
    ...run,
    changes: compareRuns(first, run.steps),
  }
}

/** Events being replayed in this process: a second replay of one event waits for the first to be queued. */
const replaying = new Set<string>()

/**
 * A real replay: the guard phase again on the chosen version (verify skipped, the event's own dedupe claims
 * count as its own), then one store transaction that closes its open dead letters and queues the rest.
 */
export async function replayEvent(
  deps: ApiDeps,
  caller: Caller,
  eventId: string,
  request: { version?: number; reason: string },
): Promise<ReplayResult> {
  if (replaying.has(eventId)) throw pendingWork(eventId)
  replaying.add(eventId)
  try {
    const event = await replayableEvent(deps, eventId)
    if (event.pendingWork > 0) throw pendingWork(eventId)
    const flow = await versionToRun(deps, event, request.version)
    const nowMs = deps.now()
    const at = new Date(nowMs).toISOString()
    const run = await runGuard(flow, engineEvent(event, flow), checkOnlyServices(deps, event.id), {
      // A test event (sent with the test marker) stays without side effects on replay too.
      sideEffects: !event.test,
      skipVerify: true,
    })
    if (run.rejection) {
      throw new ApiError(
        422,
        'replay_rejected',
        `version ${flow.doc.version} refuses this event at ${run.rejection.node ?? 'the entry'}: ${run.rejection.message}`,
        run.rejection,
      )
    }
    const mark: ReplayMark = { version: flow.doc.version, by: caller.name, at }
    const steps = markFirstStep(run.steps, mark)
    const { status } = await deps.store.replayEvent({
      eventId,
      flowVersion: flow.doc.version,
      steps,
      work: run.work,
      deadLetters: run.deadLetters,
      lineage: run.lineage,
      at,
    })
    if (run.work.length > 0) deps.onQueued()
    await deps.store.appendAudit({
      actor: caller.name,
      action: 'replay',
      target: `event:${eventId}`,
      reason: request.reason,
      details: {
        flowId: event.flowId,
        version: flow.doc.version,
        firstVersion: event.flowVersion,
        previousStatus: event.status,
        status,
        deadLetters: event.deadLetters.filter((d) => d.replayedAt === null).map((d) => d.id),
      },
    })
    deps.bus.publish({ type: 'event', eventId, flowId: event.flowId, flowVersion: flow.doc.version, status, at })
    deps.logger.info(
      { eventId, flowId: event.flowId, flowVersion: flow.doc.version, actor: caller.name, status },
      'event replayed',
    )
    return { eventId, status, version: flow.doc.version }
  } finally {
    replaying.delete(eventId)
  }
}

function pendingWork(eventId: string): ApiError {
  return new ApiError(
    409,
    'pending_work',
    `event ${eventId} still has work queued or running; replay it once that has finished`,
  )
}

function markFirstStep(steps: Step[], mark: ReplayMark): Step[] {
  const [first, ...rest] = steps
  if (!first) return steps
  return [{ ...first, note: { ...first.note, replay: mark } }, ...rest]
}

/** An event's steps cut into its runs: the first (at receipt), then one per real replay. */
export function splitRuns(steps: readonly Step[]): Array<{ replay: ReplayMark | null; steps: Step[] }> {
  const runs: Array<{ replay: ReplayMark | null; steps: Step[] }> = []
  for (const step of steps) {
    const mark = step.note?.replay as ReplayMark | undefined
    const current = runs.at(-1)
    if (mark !== undefined || !current) runs.push({ replay: mark ?? null, steps: [step] })
    else current.steps.push(step)
  }
  return runs
}

/** The nodes a run went through, each retry folded into the node's entry. */
export function runPath(steps: readonly Step[]): RunPath {
  const path: RunPath = []
  const at = new Map<string, number>()
  for (const step of steps) {
    const known = at.get(step.node)
    if (step.attempt > 1 && known !== undefined) path[known] = [step.node, step.port]
    else {
      at.set(step.node, path.length)
      path.push([step.node, step.port])
    }
  }
  return path
}

/** What a node produced, for comparing two runs: an http node's request (a preview sends nothing), else its output. */
function producedBy(step: Step): unknown {
  if (step.request) {
    const { method, url, body } = step.request
    return { request: { method, url, ...(body === undefined ? {} : { body }) } }
  }
  if (step.error) return { error: { category: step.error.category, message: step.error.message } }
  return step.output
}

function lastStepPerNode(steps: readonly Step[]): Map<string, Step> {
  const last = new Map<string, Step>()
  for (const step of steps) last.set(step.node, step)
  return last
}

export function compareRuns(before: readonly Step[], after: readonly Step[]): ReplayChanges {
  const beforePath = runPath(before)
  const afterPath = runPath(after)
  const was = lastStepPerNode(before)
  const now = lastStepPerNode(after)
  const changes: ReplayChanges = {
    path: {
      before: beforePath,
      after: afterPath,
      changed: canonicalJson(beforePath) !== canonicalJson(afterPath),
    },
    outputs: [],
    unchanged: [],
    added: [...now.keys()].filter((node) => !was.has(node)),
    removed: [...was.keys()].filter((node) => !now.has(node)),
  }
  for (const [node, step] of now) {
    const old = was.get(node)
    if (!old) continue
    const beforeValue = producedBy(old)
    const afterValue = producedBy(step)
    if (beforeValue === undefined && afterValue === undefined) continue
    if (canonicalJson(beforeValue ?? null) === canonicalJson(afterValue ?? null)) changes.unchanged.push(node)
    else changes.outputs.push({ node, before: beforeValue ?? null, after: afterValue ?? null })
  }
  return changes
}
