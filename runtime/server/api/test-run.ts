/**
 * @module Dry runs: a flow run to the end without side effects, for test runs (POST /api/flows/:id/test) and
 * replay previews. Nothing is written: dedupe claims are checked against the store, never taken, and http
 * nodes only describe the request they would send.
 */
import { Type } from '@sinclair/typebox'
import type { CompiledFlow } from '../../engine/compile.ts'
import { compileFlow, FlowCompileError } from '../../engine/compile.ts'
import { runToEnd } from '../../engine/run.ts'
import { restoreStepInputs } from '../../engine/step-inputs.ts'
import type {
  DeadLetter,
  EngineEvent,
  EngineServices,
  Rejection,
  RunResult,
  Step,
  WorkStart,
} from '../../engine/types.ts'
import type { Lineage } from '../../model/node-kind.ts'
import { newEventId } from '../ids.ts'
import { bodyChecker } from './body-check.ts'
import type { ApiDeps } from './deps.ts'
import { ApiError } from './route.ts'

/** How a dry run ended, from the most decisive: the sender refused, a duplicate, an error, a retry, done. */
export type RunOutcome = 'rejected' | 'duplicate' | 'dead' | 'retry' | 'completed'

export interface DryRun {
  outcome: RunOutcome
  steps: Step[]
  lineage: Record<string, Lineage>
  answer?: { status: number; body: unknown }
  rejection?: Rejection
  /** The event holding the dedupe key, when the run took the duplicate path. */
  duplicateOf?: string
  deadLetters: DeadLetter[]
  /** What is left: a node that would be retried. */
  work: WorkStart[]
}

export function runOutcome(run: RunResult): RunOutcome {
  if (run.rejection) return 'rejected'
  if (run.duplicateOf !== undefined) return 'duplicate'
  if (run.deadLetters.length > 0) return 'dead'
  if (run.retry) return 'retry'
  return 'completed'
}

/**
 * The services of a dry run: claims are looked up, never taken (a claim held by `ownEventId` counts as
 * ours, so a preview of an event sees its own first claim as new), and nothing is ever fetched.
 */
export function checkOnlyServices(deps: ApiDeps, ownEventId?: string): EngineServices {
  return {
    ...deps.services,
    now: deps.now,
    async claim(scope, key) {
      const holder = await deps.store.findClaim(scope, key, new Date(deps.now()))
      if (holder === undefined || holder === ownEventId) return { claimed: true }
      return { claimed: false, firstEventId: holder }
    },
    fetch() {
      // sideEffects false keeps http nodes from fetching; this makes sure of it.
      return Promise.reject(new Error('a dry run never calls a downstream API'))
    },
  }
}

/** Runs `event` through `flow` to the end with no side effects. */
export async function dryRun(
  deps: ApiDeps,
  flow: CompiledFlow,
  event: EngineEvent,
  options: { skipVerify: boolean; ownEventId?: string },
): Promise<DryRun> {
  const run = await runToEnd(flow, event, checkOnlyServices(deps, options.ownEventId), {
    sideEffects: false,
    skipVerify: options.skipVerify,
  })
  return {
    outcome: runOutcome(run),
    steps: restoreStepInputs(run.steps),
    lineage: run.lineage,
    ...(run.answer === undefined ? {} : { answer: run.answer }),
    ...(run.rejection === undefined ? {} : { rejection: run.rejection }),
    ...(run.duplicateOf === undefined ? {} : { duplicateOf: run.duplicateOf }),
    deadLetters: run.deadLetters,
    work: run.work,
  }
}

/** The body of POST /api/flows/:id/test. */
export interface TestRunRequest {
  payload?: unknown
  headers?: Record<string, string>
  rawBody?: string
  version?: number
  document?: unknown
}

/** Compiles a flow document, answering 400 `invalid_flow` with the graph-check issues when it is not valid. */
export function compileOrReject(document: unknown, deps: ApiDeps): CompiledFlow {
  try {
    return compileFlow(document, { kinds: deps.kinds, schemas: deps.schemas })
  } catch (error) {
    if (error instanceof FlowCompileError) {
      throw new ApiError(400, 'invalid_flow', error.message, error.issues)
    }
    throw error
  }
}

/**
 * A test run of flow `flowId`: the unsaved `document` when given, else `version`, else the latest saved
 * version. Verify checks the raw body when headers are given and reports itself skipped when not.
 */
export async function testRun(deps: ApiDeps, flowId: string, body: unknown): Promise<DryRun> {
  const request = readTestRunRequest(body)
  const flow = await flowToTest(deps, flowId, request)
  const nowMs = deps.now()
  const headers = lowerCaseHeaders(request.headers ?? {})
  const rawBody = request.rawBody ?? JSON.stringify(request.payload)
  const event: EngineEvent = {
    id: newEventId(nowMs),
    receivedAt: new Date(nowMs).toISOString(),
    flowId: flow.doc.id,
    flowVersion: flow.doc.version,
    headers,
    rawBody,
  }
  return dryRun(deps, flow, event, { skipVerify: request.headers === undefined })
}

export const testRunBody = Type.Object(
  {
    payload: Type.Optional(Type.Unknown({ description: 'the event, as the sender would send it' })),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'request headers; without them verify reports itself skipped',
      }),
    ),
    rawBody: Type.Optional(Type.String({ description: 'the body byte-exact; default: JSON.stringify(payload)' })),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'a saved version; default: the latest' })),
    document: Type.Optional(Type.Object({}, { description: 'an unsaved flow document to run instead' })),
  },
  { additionalProperties: false },
)

const checkTestRunBody = bodyChecker<TestRunRequest>(testRunBody)

function readTestRunRequest(body: unknown): TestRunRequest {
  const request = checkTestRunBody(body ?? {})
  if (request.rawBody === undefined && request.payload === undefined) {
    throw invalidField('payload', 'required', 'is required (or give the rawBody)')
  }
  return request
}

async function flowToTest(deps: ApiDeps, flowId: string, request: TestRunRequest): Promise<CompiledFlow> {
  if (request.document !== undefined) {
    const id = (request.document as { id?: unknown } | null)?.id
    if (id !== flowId) {
      throw invalidField('document.id', 'const', `${JSON.stringify(id)} is not the flow "${flowId}" of the address`)
    }
    return compileOrReject(request.document, deps)
  }
  const record =
    request.version === undefined
      ? await deps.store.latestFlowVersion(flowId)
      : await deps.store.getFlowVersion(flowId, request.version)
  if (!record) {
    const what =
      request.version === undefined ? `no flow "${flowId}"` : `flow "${flowId}" has no version ${request.version}`
    throw new ApiError(404, 'not_found', what)
  }
  return deps.registry.version(flowId, record.version)
}

function lowerCaseHeaders(headers: Record<string, string>): Record<string, string> {
  const lower: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value
  return lower
}

export function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0
}

/** A 400 shaped like the body checker's: the message starts with the field, the details list the issue. */
export function invalidField(field: string, rule: string, message: string): ApiError {
  return new ApiError(400, 'invalid_body', `${field}: ${message}`, [
    { path: `/${field.replace(/\./g, '/')}`, rule, message },
  ])
}
