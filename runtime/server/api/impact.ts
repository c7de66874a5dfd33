/**
 * @module Admin API: POST /api/flows/:id/impact — before a deploy, the last N stored events of the flow run
 * through the candidate version and through the deployed one, both without side effects, and compared:
 * the path each took, how each ended, and field by field what each node produced.
 *
 * The deployed version is run again rather than read from the stored steps: the stored first run may come
 * from an older version, may have met a downstream outage (a dead letter is the API's doing, not the
 * version's) and ran at another time. Two dry runs on one pinned clock differ only by the version.
 */
import { Type } from '@sinclair/typebox'
import type { Request } from 'express'
import type { CompiledFlow } from '../../engine/compile.ts'
import type { EngineEvent } from '../../engine/types.ts'
import { canonicalJson } from '../../model/canonical-json.ts'
import type { EventDetail } from '../../store/store.ts'
import { bodyChecker } from './body-check.ts'
import type { ApiDeps } from './deps.ts'
import { compareRuns, type RunPath } from './replay.ts'
import { ApiError, defineRoutes } from './route.ts'
import { dryRun, type RunOutcome } from './test-run.ts'

export const DEFAULT_IMPACT_EVENTS = 20
export const MAX_IMPACT_EVENTS = 500
/** Events read per page while looking for the last N production events. */
const PAGE = 200

export const impactBody = Type.Object(
  {
    version: Type.Integer({ minimum: 1, description: 'the candidate version to preview' }),
    events: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_IMPACT_EVENTS,
        description: `how many of the newest stored events to run (default ${DEFAULT_IMPACT_EVENTS})`,
      }),
    ),
  },
  { additionalProperties: false },
)

const checkImpactBody = bodyChecker<{ version: number; events?: number }>(impactBody)

/** One field a node produced differently: a JSONPath into its output (an http node's: the request it sends). */
export interface FieldChange {
  path: string
  change: 'changed' | 'added' | 'removed'
  before?: unknown
  after?: unknown
}

export interface ImpactEvent {
  eventId: string
  receivedAt: string
  /** The version that ran the event when it was received. */
  firstVersion: number | null
  outcome: { deployed: RunOutcome; candidate: RunOutcome }
  path: { deployed: RunPath; candidate: RunPath; changed: boolean }
  /** Nodes both runs reached whose output differs, field by field. */
  nodes: Array<{ node: string; fields: FieldChange[] }>
  /** Nodes only the candidate reaches, and nodes only the deployed version reached. */
  added: string[]
  removed: string[]
  changed: boolean
  /** The event could not be compared (its runs failed in a way a dry run cannot report). */
  error?: string
}

export interface ImpactPreview {
  flowId: string
  deployedVersion: number
  candidateVersion: number
  /** How the deployed side was obtained. */
  baseline: 'deployed version re-run without side effects'
  events: ImpactEvent[]
  totals: {
    requested: number
    compared: number
    changed: number
    unchanged: number
    errors: number
    pathChanged: number
    outcomeChanged: number
    outputChanged: number
  }
  /** Every (node, field) that changed, with the number of events it changed in, most first. */
  fields: Array<{ node: string; path: string; events: number }>
  /** Every distinct path change, with the number of events that took it. */
  paths: Array<{ deployed: RunPath; candidate: RunPath; events: number }>
}

export const impactRoutes = defineRoutes([
  {
    method: 'post',
    path: '/flows/:id/impact',
    role: 'editor',
    summary: 'Impact preview: the last N stored events run through a candidate version and the deployed one, compared',
    body: impactBody,
    responses: {
      200: '{flowId, deployedVersion, candidateVersion, events: [{eventId, outcome, path, nodes: [{node, fields}]}], totals, fields, paths}',
      400: 'no version, or events out of range',
      404: 'no such flow or version',
      409: 'not_deployed: nothing to compare with',
    },
    async handler(req, res, { deps }) {
      res.json(await previewImpact(deps, param(req, 'id'), req.body))
    },
  },
])

function param(req: Request, name: string): string {
  return String(req.params[name])
}

/** `$.a.b[0]["odd key"]` */
function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The leaves that differ between two JSON values, each with its JSONPath. */
export function fieldChanges(before: unknown, after: unknown, path = '$'): FieldChange[] {
  if (before === undefined && after === undefined) return []
  if (before === undefined) return [{ path, change: 'added', after }]
  if (after === undefined) return [{ path, change: 'removed', before }]
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
    return keys.flatMap((key) => fieldChanges(before[key], after[key], childPath(path, key)))
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    return Array.from({ length: Math.max(before.length, after.length) }, (_, i) =>
      fieldChanges(before[i], after[i], childPath(path, i)),
    ).flat()
  }
  return canonicalJson(before) === canonicalJson(after) ? [] : [{ path, change: 'changed', before, after }]
}

/** An http node's request body is JSON text: compared as JSON, so a changed field is named, not the whole body. */
function comparable(value: unknown): unknown {
  if (!isRecord(value) || !isRecord(value.request) || typeof value.request.body !== 'string') return value
  try {
    return { ...value, request: { ...value.request, body: JSON.parse(value.request.body) } }
  } catch {
    return value
  }
}

/** The newest `limit` events a preview may run: not test-marked, not refused, not duplicates, raw body kept. */
async function productionEvents(deps: ApiDeps, flowId: string, limit: number): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | undefined
  do {
    const page = await deps.store.listEvents({ flow: flowId, test: false, limit: PAGE, ...(cursor ? { cursor } : {}) })
    for (const event of page.items) {
      if (ids.length >= limit) break
      if (event.status === 'rejected' || event.status === 'duplicate' || event.rawBody === null) continue
      ids.push(event.id)
    }
    cursor = page.nextCursor ?? undefined
  } while (cursor && ids.length < limit)
  return ids
}

function engineEvent(event: EventDetail, flow: CompiledFlow): EngineEvent {
  return {
    id: event.id,
    receivedAt: event.receivedAt,
    flowId: flow.doc.id,
    flowVersion: flow.doc.version,
    headers: event.headers,
    rawBody: event.rawBody ?? '',
  }
}

async function compareEvent(
  deps: ApiDeps,
  event: EventDetail,
  deployed: CompiledFlow,
  candidate: CompiledFlow,
): Promise<ImpactEvent> {
  // Verify is skipped: the signature was checked at receipt, and the stored headers are masked.
  const options = { skipVerify: true, ownEventId: event.id }
  const before = await dryRun(deps, deployed, engineEvent(event, deployed), options)
  const after = await dryRun(deps, candidate, engineEvent(event, candidate), options)
  const changes = compareRuns(before.steps, after.steps)
  const nodes = changes.outputs
    .map(({ node, before: was, after: now }) => ({ node, fields: fieldChanges(comparable(was), comparable(now)) }))
    .filter((node) => node.fields.length > 0)
  const outcome = { deployed: before.outcome, candidate: after.outcome }
  return {
    eventId: event.id,
    receivedAt: event.receivedAt,
    firstVersion: event.flowVersion,
    outcome,
    path: { deployed: changes.path.before, candidate: changes.path.after, changed: changes.path.changed },
    nodes,
    added: changes.added,
    removed: changes.removed,
    changed: changes.path.changed || nodes.length > 0 || outcome.deployed !== outcome.candidate,
  }
}

function totalsOf(requested: number, events: readonly ImpactEvent[]): ImpactPreview['totals'] {
  const compared = events.filter((e) => e.error === undefined)
  return {
    requested,
    compared: compared.length,
    changed: compared.filter((e) => e.changed).length,
    unchanged: compared.filter((e) => !e.changed).length,
    errors: events.length - compared.length,
    pathChanged: compared.filter((e) => e.path.changed).length,
    outcomeChanged: compared.filter((e) => e.outcome.deployed !== e.outcome.candidate).length,
    outputChanged: compared.filter((e) => e.nodes.length > 0).length,
  }
}

function fieldCounts(events: readonly ImpactEvent[]): ImpactPreview['fields'] {
  const counts = new Map<string, { node: string; path: string; events: number }>()
  for (const event of events) {
    for (const { node, fields } of event.nodes) {
      for (const { path } of fields) {
        const key = `${node}\u0000${path}`
        const entry = counts.get(key) ?? { node, path, events: 0 }
        entry.events++
        counts.set(key, entry)
      }
    }
  }
  return [...counts.values()].sort((a, b) => b.events - a.events || a.node.localeCompare(b.node))
}

function pathCounts(events: readonly ImpactEvent[]): ImpactPreview['paths'] {
  const counts = new Map<string, ImpactPreview['paths'][number]>()
  for (const event of events.filter((e) => e.path.changed)) {
    const key = canonicalJson([event.path.deployed, event.path.candidate])
    const entry = counts.get(key) ?? { deployed: event.path.deployed, candidate: event.path.candidate, events: 0 }
    entry.events++
    counts.set(key, entry)
  }
  return [...counts.values()].sort((a, b) => b.events - a.events)
}

export async function previewImpact(deps: ApiDeps, flowId: string, body: unknown): Promise<ImpactPreview> {
  const { version, events: requested = DEFAULT_IMPACT_EVENTS } = checkImpactBody(body ?? {})
  const record = await deps.store.getFlowVersion(flowId, version)
  if (!record) throw new ApiError(404, 'not_found', `flow "${flowId}" has no version ${version}`)
  const deployedVersion = (await deps.store.deployedFlows()).get(flowId)
  if (deployedVersion === undefined) {
    throw new ApiError(
      409,
      'not_deployed',
      `flow "${flowId}" has no deployed version to compare version ${version} with`,
    )
  }
  const [deployed, candidate] = await Promise.all([
    deps.registry.version(flowId, deployedVersion),
    deps.registry.version(flowId, version),
  ])
  // One clock for every run of the preview: `$now()` cannot tell the two versions apart.
  const at = deps.now()
  const pinned: ApiDeps = { ...deps, now: () => at }
  const events: ImpactEvent[] = []
  for (const id of await productionEvents(deps, flowId, requested)) {
    const event = await deps.store.getEvent(id)
    if (!event || event.rawBody === null) continue
    try {
      events.push(await compareEvent(pinned, event, deployed, candidate))
    } catch (error) {
      deps.logger.warn({ err: error, eventId: id, flowId }, 'impact preview could not compare an event')
      events.push({
        eventId: id,
        receivedAt: event.receivedAt,
        firstVersion: event.flowVersion,
        outcome: { deployed: 'dead', candidate: 'dead' },
        path: { deployed: [], candidate: [], changed: false },
        nodes: [],
        added: [],
        removed: [],
        changed: false,
        error: (error as Error).message,
      })
    }
  }
  return {
    flowId,
    deployedVersion,
    candidateVersion: version,
    baseline: 'deployed version re-run without side effects',
    events,
    totals: totalsOf(requested, events),
    fields: fieldCounts(events),
    paths: pathCounts(events),
  }
}
