/** @module Golden scenarios as data (test/scenarios/*.json): a flow, a request, a fixed clock, the expected path and outputs. */
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { compileFlow } from '../../runtime/engine/compile.ts'
import { runGuard, runWork } from '../../runtime/engine/run.ts'
import type { DeadLetter, EngineEvent, Rejection, Step, WorkStart } from '../../runtime/engine/types.ts'
import { schemaDirectory } from '../../runtime/files/schema-directory.ts'
import type { Lineage, OutboundRequest } from '../../runtime/model/node-kind.ts'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { nodeKinds } from '../../runtime/nodes/index.ts'
import { fakeServices } from './fake-services.ts'
import { REPO_ROOT, readFixture, SCHEMAS_DIR } from './paths.ts'

export interface Scenario {
  name: string
  flow: string | FlowDocument
  clock: string
  secrets?: Record<string, string[]>
  request: {
    body: { fixture: string } | { json: unknown } | { raw: string }
    /** Changes applied to the fixture's JSON before it is sent (top-level dotted paths; null deletes). */
    patch?: Record<string, unknown>
    headers?: Record<string, string>
    sign?: { scheme: 'stripe' | 'bearer'; header?: string; secret: string; timestampOffsetSec?: number }
    /** Bytes changed after signing. */
    tamper?: boolean
  }
  claimed?: Record<string, string>
  downstream?: Array<{ status: number; body?: unknown; headers?: Record<string, string> } | { networkError: string }>
  expect: {
    answer: number
    rejection?: Partial<Rejection>
    path?: Array<[string, string | null]>
    outputs?: Record<string, unknown>
    requests?: Array<Partial<OutboundRequest> & { json?: unknown }>
    deadLetters?: Array<{ node: string; category: string }>
    attempts?: Record<string, number>
    lineage?: Record<string, Lineage>
  }
}

export interface ScenarioOutcome {
  answer: number
  rejection?: Rejection
  steps: Step[]
  requests: OutboundRequest[]
  deadLetters: DeadLetter[]
  lineage: Record<string, Lineage>
}

export async function runScenario(scenario: Scenario): Promise<ScenarioOutcome> {
  const doc = (
    typeof scenario.flow === 'string'
      ? JSON.parse(readFileSync(resolve(REPO_ROOT, scenario.flow), 'utf8'))
      : scenario.flow
  ) as FlowDocument
  const flow = compileFlow(doc, { kinds: nodeKinds, schemas: schemaDirectory(SCHEMAS_DIR) })
  const nowMs = Date.parse(scenario.clock)
  const services = fakeServices({
    nowMs,
    ...(scenario.secrets ? { secrets: scenario.secrets } : {}),
    downstream: (scenario.downstream ?? [{ status: 200 }]).map((d) =>
      'networkError' in d
        ? new Error(d.networkError)
        : { status: d.status, headers: d.headers ?? {}, body: d.body === undefined ? '' : JSON.stringify(d.body) },
    ),
  })
  for (const [key, eventId] of Object.entries(scenario.claimed ?? {}))
    services.claims.set(key.replace('|', '\u0000'), eventId)

  const rawBody = buildBody(scenario)
  const headers = { 'content-type': 'application/json', ...lowerKeys(scenario.request.headers ?? {}) }
  if (scenario.request.sign) Object.assign(headers, sign(scenario.request.sign, rawBody, nowMs))
  const event: EngineEvent = {
    id: 'evt-scenario',
    receivedAt: scenario.clock,
    flowId: doc.id,
    flowVersion: doc.version,
    headers,
    rawBody: scenario.request.tamper ? rawBody.replace(/}\s*$/, ' }\n') : rawBody,
  }

  const guard = await runGuard(flow, event, services, { sideEffects: true })
  const steps = [...guard.steps]
  const deadLetters = [...guard.deadLetters]
  const lineage = { ...guard.lineage }
  if (guard.rejection) {
    return {
      answer: guard.rejection.status,
      rejection: guard.rejection,
      steps,
      requests: services.requests,
      deadLetters,
      lineage,
    }
  }
  const queue: Array<{ start: WorkStart; attempt: number }> = guard.work.map((start) => ({ start, attempt: 1 }))
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
    const part = await runWork(flow, event, item.start, item.attempt, services, { sideEffects: true })
    steps.push(...part.steps)
    deadLetters.push(...part.deadLetters)
    Object.assign(lineage, part.lineage)
    if (part.retry) {
      services.clock.ms = Math.max(services.clock.ms, part.retry.at)
      queue.push({ start: { node: part.retry.node, message: part.retry.message }, attempt: part.retry.nextAttempt })
    }
    queue.push(...part.work.map((start) => ({ start, attempt: 1 })))
  }
  const answer = guard.duplicateOf !== undefined ? 200 : 202
  return { answer, steps, requests: services.requests, deadLetters, lineage }
}

function buildBody(scenario: Scenario): string {
  const body = scenario.request.body
  if ('raw' in body) return body.raw
  const value = 'json' in body ? body.json : JSON.parse(readFixture(body.fixture))
  for (const [path, replacement] of Object.entries(scenario.request.patch ?? {})) setPath(value, path, replacement)
  return 'fixture' in body && !scenario.request.patch ? readFixture(body.fixture) : JSON.stringify(value)
}

function setPath(target: unknown, path: string, value: unknown): void {
  const segments = path.split('.')
  let node = target as Record<string, unknown>
  for (const segment of segments.slice(0, -1)) node = node[segment] as Record<string, unknown>
  const last = segments.at(-1) as string
  if (value === null) delete node[last]
  else node[last] = value
}

/** Signatures are made here with node:crypto, independently of the product's signer. */
function sign(spec: NonNullable<Scenario['request']['sign']>, rawBody: string, nowMs: number): Record<string, string> {
  if (spec.scheme === 'bearer') return { [spec.header ?? 'authorization']: `Bearer ${spec.secret}` }
  const t = Math.floor(nowMs / 1000) + (spec.timestampOffsetSec ?? 0)
  const v1 = createHmac('sha256', spec.secret).update(`${t}.${rawBody}`).digest('hex')
  return { [spec.header ?? 'stripe-signature']: `t=${t},v1=${v1}` }
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
}
