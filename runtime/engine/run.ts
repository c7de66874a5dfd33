/**
 * @module Runs a flow version on an event, node by node along the edges.
 *
 * `runGuard` runs what may decide the sender's answer (SPEC §4); `runWork` resumes one queued node and
 * what follows it up to the next effect; `runToEnd` does both in one go (test runs, previews, respond: completed).
 */
import type { NodeResult, OutboundRequest } from '../model/node-kind.ts'
import { asStepError, type StepError, type StepErrorInfo } from '../model/step-error.ts'
import type { CompiledFlow, CompiledNode } from './compile.ts'
import { createNodeContext } from './context.ts'
import { composeLineage } from './lineage.ts'
import { redact } from './redact.ts'
import type { EngineEvent, EngineServices, Message, RunOptions, RunResult, Step, WorkStart } from './types.ts'

const UNPARSED = Symbol('unparsed body')

interface Pending {
  item: WorkStart
  /** The queued node a work run starts from: it may be an effect, and it carries the attempt number. */
  isStart: boolean
}

interface Walk {
  flow: CompiledFlow
  event: EngineEvent
  services: EngineServices
  options: RunOptions
  result: RunResult
  phase: 'guard' | 'work'
  attempt: number
  /** Whether the walk stops before this node, leaving it to the queue. */
  defer(node: CompiledNode, isStart: boolean): boolean
  /** Whether an effect node ran in this walk. */
  effectRan?: boolean
  /** The payload the last recorded step handed on: a step whose input is that same payload does not repeat it. */
  handedOn?: unknown
}

function emptyResult(): RunResult {
  return { steps: [], claims: [], work: [], deadLetters: [], lineage: {} }
}

/** Runs the guard nodes reached from the entry through guard nodes alone. */
export async function runGuard(
  flow: CompiledFlow,
  event: EngineEvent,
  services: EngineServices,
  options: RunOptions,
): Promise<RunResult> {
  const result = emptyResult()
  const payload = event.payload === undefined ? UNPARSED : event.payload
  await walk(
    {
      flow,
      event,
      services,
      options,
      result,
      phase: 'guard',
      attempt: 1,
      defer: (node) => node.kind.phase !== 'guard',
    },
    [{ item: { node: flow.entry, message: { payload } }, isStart: false }],
  )
  return result
}

/** Resumes a queued node (attempt `attempt`) and runs on until the next effect, which is queued in turn. */
export async function runWork(
  flow: CompiledFlow,
  event: EngineEvent,
  start: WorkStart,
  attempt: number,
  services: EngineServices,
  options: RunOptions,
): Promise<RunResult> {
  const result = emptyResult()
  result.payload = start.message.payload
  await walk(
    {
      flow,
      event,
      services,
      options,
      result,
      phase: 'work',
      attempt,
      // One effect per work item: the nodes up to and including the first effect run here; the next effect
      // is queued, so it is attempted from a durable record and its retries never repeat this one.
      defer(node, isStart) {
        return !isStart && node.kind.effect === true && this.effectRan === true
      },
    },
    [{ item: start, isStart: true }],
  )
  return result
}

/**
 * Runs the whole flow now: guard, then every queued node in turn. A retriable failure stops that
 * path with `retry` set (the caller decides whether to queue it); nothing waits or sleeps here.
 */
export async function runToEnd(
  flow: CompiledFlow,
  event: EngineEvent,
  services: EngineServices,
  options: RunOptions,
): Promise<RunResult> {
  const total = await runGuard(flow, event, services, options)
  if (total.rejection) return total
  const queue = total.work
  total.work = []
  for (let start = queue.shift(); start !== undefined; start = queue.shift()) {
    const part = await runWork(flow, event, start, 1, services, options)
    total.steps.push(...part.steps)
    total.deadLetters.push(...part.deadLetters)
    Object.assign(total.lineage, part.lineage)
    if (part.answer && !total.answer) total.answer = part.answer
    if (part.retry) {
      total.retry ??= part.retry
      total.work.push({ node: part.retry.node, message: part.retry.message })
    }
    queue.push(...part.work)
  }
  return total
}

async function walk(run: Walk, initial: Pending[]): Promise<void> {
  const queue = [...initial]
  for (let pending = queue.shift(); pending !== undefined; pending = queue.shift()) {
    if (run.result.rejection) return
    const { item, isStart } = pending
    const node = run.flow.nodes.get(item.node) as CompiledNode
    let message = item.message
    if (message.payload === UNPARSED && node.kind.kind !== 'verify') {
      const parsed = parseBody(run.event.rawBody)
      if (!parsed.ok) {
        run.result.rejection = { status: 400, code: 'malformed_json', message: parsed.message, node: node.node.id }
        return
      }
      message = { ...message, payload: parsed.value }
      run.result.payload = parsed.value
    }
    if (run.defer(node, isStart)) {
      run.result.work.push({ ...item, message })
      continue
    }
    const outgoing = await runNode(run, node, message, isStart ? run.attempt : 1)
    for (const next of outgoing) queue.push({ item: next, isStart: false })
  }
}

/** Runs one node, records its step, and returns the messages it sends on. */
async function runNode(run: Walk, node: CompiledNode, message: Message, attempt: number): Promise<WorkStart[]> {
  const startedAt = run.services.now()
  const started = performance.now()
  const step: Step = {
    node: node.node.id,
    kind: node.kind.kind,
    phase: run.phase,
    port: null,
    attempt,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: 0,
  }
  if (message.payload !== run.handedOn || run.result.steps.length === 0)
    step.input = redactPayload(run, message.payload)
  run.result.steps.push(step)
  run.handedOn = message.payload

  if (node.kind.effect) run.effectRan = true
  if (node.kind.kind === 'verify' && run.options.skipVerify) {
    step.durationMs = performance.now() - started
    step.skipped = true
    step.port = 'ok'
    return send(run, node, 'ok', message)
  }

  let outcome: NodeResult
  try {
    const ctx = createNodeContext({
      flow: run.flow,
      event: run.event,
      services: run.services,
      node: node.node,
      input: message.payload,
      error: message.error,
      attempt,
      sideEffects: run.options.sideEffects,
      claims: run.result.claims,
    })
    outcome = await node.kind.run(node.node.config, ctx)
  } catch (thrown) {
    step.durationMs = performance.now() - started
    return failed(run, node, message, step, asStepError(thrown), attempt)
  }
  step.durationMs = performance.now() - started
  return succeeded(run, node, message, step, outcome)
}

function succeeded(run: Walk, node: CompiledNode, message: Message, step: Step, outcome: NodeResult): WorkStart[] {
  step.port = outcome.port
  const payload = outcome.output === undefined ? message.payload : outcome.output
  run.handedOn = payload
  if (outcome.output !== undefined) step.output = redactPayload(run, outcome.output)
  if (outcome.request) step.request = redactRequest(run, outcome.request)
  if (outcome.response) step.response = { ...outcome.response, body: redactPayload(run, outcome.response.body) }
  if (outcome.note) step.note = outcome.note
  if (outcome.answer) run.result.answer = outcome.answer

  let lineage = message.lineage
  if (outcome.lineage) {
    step.lineage = outcome.lineage
    const traced = message.lineage ? composeLineage(outcome.lineage, message.lineage) : outcome.lineage
    run.result.lineage[node.node.id] = traced
    lineage = traced
  } else if (outcome.output !== undefined) {
    lineage = undefined // a new payload (an API's answer) no longer traces back to the event
  }
  if (node.kind.kind === 'dedupe' && outcome.port === 'duplicate' && run.phase === 'guard') {
    const first = outcome.note?.firstEventId
    run.result.duplicateOf = typeof first === 'string' ? first : ''
  }
  if (outcome.port === null) return []
  return send(run, node, outcome.port, {
    payload,
    ...(message.error === undefined ? {} : { error: message.error }),
    ...(lineage === undefined ? {} : { lineage }),
  })
}

function failed(
  run: Walk,
  node: CompiledNode,
  message: Message,
  step: Step,
  error: StepError,
  attempt: number,
): WorkStart[] {
  const info: StepErrorInfo = error.toJSON()
  step.error = info
  const delays = node.kind.retryDelaysMs?.(node.node.config) ?? []
  if (error.category === 'retriable' && node.kind.effect && attempt < delays.length) {
    const delayMs = Math.max(delays[attempt] ?? 0, error.retryAfterMs ?? 0)
    run.result.retry = {
      node: node.node.id,
      message,
      at: run.services.now() + delayMs,
      nextAttempt: attempt + 1,
      error: info,
    }
    return []
  }
  const port = node.errorPorts.get(error.category)
  if (port !== undefined && run.flow.next(node.node.id, port).length > 0) {
    step.port = port
    return send(run, node, port, { payload: message.payload, error: info })
  }
  if (port !== undefined) step.port = port
  return unhandled(run, node, message, info)
}

/** The defaults of SPEC §3 for an error no edge takes: 401, 422, or the dead letters. */
function unhandled(run: Walk, node: CompiledNode, message: Message, error: StepErrorInfo): WorkStart[] {
  if (run.phase === 'guard' && error.category === 'invalid_signature') {
    run.result.rejection = { status: 401, code: 'invalid_signature', message: error.message, node: node.node.id }
  } else if (run.phase === 'guard' && error.category === 'schema_reject') {
    run.result.rejection = {
      status: 422,
      code: 'schema_reject',
      message: error.message,
      node: node.node.id,
      details: error.details,
    }
  } else {
    run.result.deadLetters.push({ node: node.node.id, error, message })
  }
  return []
}

function send(run: Walk, node: CompiledNode, port: string, message: Message): WorkStart[] {
  return run.flow.next(node.node.id, port).map((to) => ({ node: to, message }))
}

function redactPayload(run: Walk, payload: unknown): unknown {
  if (payload === UNPARSED) return undefined
  return redact(payload, run.flow.doc.retention?.redact)
}

/** A request body is JSON text: its listed fields are redacted like any payload's. */
function redactRequest(run: Walk, request: OutboundRequest): OutboundRequest {
  const paths = run.flow.doc.retention?.redact
  if (!paths?.length || request.body === undefined) return request
  const parsed = parseBody(request.body)
  return parsed.ok ? { ...request, body: JSON.stringify(redact(parsed.value, paths)) } : request
}

function parseBody(raw: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(raw) }
  } catch (error) {
    return { ok: false, message: `the body is not JSON: ${(error as Error).message}` }
  }
}
