/**
 * @module The lean webhook ingress: `POST /hooks/<path>` on Node's own http, in front of express.
 *
 * request → guard phase → one commit (event, claims, steps, work) → 202. Nothing slower sits on this path.
 */
import { isUtf8 } from 'node:buffer'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FlowRegistry } from '../deploy/flow-registry.ts'
import type { CompiledFlow } from '../engine/compile.ts'
import { runGuard, runToEnd } from '../engine/run.ts'
import type { EngineEvent, EngineServices, RunResult } from '../engine/types.ts'
import { DEFAULT_MAX_BODY_BYTES } from '../model/types.ts'
import type { Store } from '../store/store.ts'
import { diagnoseRejection } from './diagnose-rejection.ts'
import type { EventBus, EventNews } from './event-bus.ts'
import { newEventId, newRequestId } from './ids.ts'
import type { Logger } from './logger.ts'
import { maskHeaders } from './mask-headers.ts'
import type { ReceiveOutcome, RuntimeMetrics } from './metrics.ts'
import type { PendingClaims } from './pending-claims.ts'
import { RateLimiter } from './rate-limit.ts'
import type { RecentFigures } from './recent-figures.ts'

export const HOOKS_PREFIX = '/hooks/'
/** Events sent with this header are processed without side effects and kept apart from production figures. */
export const TEST_MARKER_HEADER = 'x-mapper-test'
/**
 * The deepest nesting of arrays and objects a body may have. Real webhooks nest a few levels; a few thousand
 * overflow the recursive code every payload goes through (structured clone to the store's writer thread,
 * JSON.stringify), which answered 500 and could stall the workers. Found by `mapper fuzz`.
 */
export const MAX_BODY_NESTING = 256

export interface HookDeps {
  registry: FlowRegistry
  store: Store
  claims: PendingClaims
  /** Services for guard runs; `claim` is replaced per request by the pending-claims check. */
  services: EngineServices
  metrics: RuntimeMetrics
  figures: RecentFigures
  bus: EventBus
  logger: Logger
  /** True while the queue is over its high-water mark: new webhooks get 503. */
  overloaded(): boolean
  /** False while draining: new webhooks get 503. */
  accepting(): boolean
  /** `queued` work items were committed. */
  onAccepted(queued: number): void
}

interface Answer {
  status: number
  body: unknown
  headers?: Record<string, string>
  outcome: ReceiveOutcome
  /** Already stored as an event (accepted, duplicate, or refused by the flow). */
  recorded?: boolean
  /** What the live stream is told. */
  news?: EventNews
  /** The version that ran the delivery (while a canary runs, the candidate or the stable one). */
  flowVersion?: number
}

export function createHookHandler(deps: HookDeps) {
  const limiter = new RateLimiter()

  return async function handleHook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now()
    const requestId = newRequestId()
    const path = decodePath((req.url ?? '').slice(HOOKS_PREFIX.length).split('?')[0] ?? '')
    const flow = deps.registry.forPath(path)
    const flowId = flow?.doc.id ?? 'unknown'
    // Test deliveries are kept apart from the production figures: no counter, histogram or chart sees them.
    const test = req.headers[TEST_MARKER_HEADER] !== undefined
    let answer: Answer
    try {
      answer = await receive(deps, limiter, flow, req, path, requestId, test)
    } catch (error) {
      deps.logger.error({ err: error, requestId, flowId, path }, 'webhook ingest failed')
      answer = {
        status: 500,
        body: { error: { code: 'internal', message: 'the event was not stored' } },
        outcome: 'error',
      }
    }
    if (!answer.recorded) recordRefusal(deps, answer, flow, requestId, path, req)
    const payload = JSON.stringify(answer.body)
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'x-request-id': requestId,
      ...answer.headers,
    })
    res.end(payload)
    const seconds = (performance.now() - started) / 1000
    if (!test) {
      const version = answer.flowVersion === undefined ? {} : { version: String(answer.flowVersion) }
      deps.metrics.received.inc({ flow: flowId, outcome: answer.outcome, status: String(answer.status), ...version })
      deps.metrics.ackLatency.observe({ flow: flowId }, seconds)
      deps.figures.recordAnswer(flowId, answer.outcome, seconds * 1000, deps.services.now(), answer.flowVersion)
    }
    const eventId = (answer.body as { eventId?: string }).eventId
    if (answer.news) deps.bus.publish(answer.news)
    deps.logger.info(
      {
        requestId,
        eventId,
        flowId,
        flowVersion: answer.flowVersion ?? flow?.doc.version,
        path,
        status: answer.status,
        outcome: answer.outcome,
        ms: seconds * 1000,
        ...(test ? { test } : {}),
      },
      'webhook answered',
    )
  }
}

async function receive(
  deps: HookDeps,
  limiter: RateLimiter,
  routed: CompiledFlow | undefined,
  req: IncomingMessage,
  path: string,
  requestId: string,
  test: boolean,
): Promise<Answer> {
  let flow = routed
  if (!flow) {
    drain(req)
    return { status: 404, body: error('not_found', `no flow is deployed at /hooks/${path}`), outcome: 'not_found' }
  }
  if (req.method !== 'POST') {
    drain(req)
    return {
      status: 405,
      body: error('method_not_allowed', 'webhooks are POST'),
      headers: { allow: 'POST' },
      outcome: 'error',
    }
  }
  if (!deps.accepting()) {
    drain(req)
    return backpressure('the runtime is shutting down', 5)
  }
  const nowMs = deps.services.now()
  const limit = limiter.take(flow.doc.id, flow.doc.trigger.rateLimit, nowMs)
  if (!limit.ok) {
    drain(req)
    return {
      status: 429,
      body: error('rate_limited', `over the flow's rate limit of ${flow.doc.trigger.rateLimit?.perSecond}/s`),
      headers: { 'retry-after': String(limit.retryAfterSec) },
      outcome: 'rate_limited',
    }
  }
  if (deps.overloaded()) {
    drain(req)
    return backpressure('the processing queue is over its high-water mark', 5)
  }
  const maxBytes = flow.doc.trigger.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const body = await readBody(req, maxBytes)
  if (!body.ok) {
    return {
      status: 413,
      body: error('payload_too_large', `the body is over ${maxBytes} bytes`),
      headers: { connection: 'close' },
      outcome: 'too_large',
    }
  }
  const rawBody = body.bytes.toString('utf8')
  const headers = flattenHeaders(req.headers)
  // While a canary runs, what identifies the event decides the version that takes it (canary-split.ts).
  flow = await deps.registry.versionFor(flow, headers, rawBody)
  const event: EngineEvent = {
    id: newEventId(nowMs),
    receivedAt: new Date(nowMs).toISOString(),
    flowId: flow.doc.id,
    flowVersion: flow.doc.version,
    headers,
    rawBody,
  }
  // isUtf8, not a length comparison: a truncated sequence can decode to U+FFFD of the very same length.
  const malformed = !isUtf8(body.bytes)
    ? 'the body is not UTF-8'
    : nestedDeeperThan(body.bytes, MAX_BODY_NESTING)
      ? `the body nests arrays and objects deeper than ${MAX_BODY_NESTING} levels`
      : undefined
  if (malformed !== undefined) {
    return reject(deps, flow, event, requestId, path, body.bytes.length, test, {
      steps: [],
      claims: [],
      work: [],
      deadLetters: [],
      lineage: {},
      rejection: { status: 400, code: 'malformed_json', message: malformed },
    })
  }
  const services: EngineServices = {
    ...deps.services,
    claim: (scope, key, _ttl, eventId) => deps.claims.claim(scope, key, eventId, new Date(deps.services.now())),
  }
  const completed = flow.doc.trigger.respond === 'completed'
  const run = completed
    ? await runToEnd(flow, event, services, { sideEffects: !test })
    : await runGuard(flow, event, services, { sideEffects: !test })
  if (run.rejection) {
    deps.claims.release(run.claims)
    return reject(deps, flow, event, requestId, path, body.bytes.length, test, run)
  }
  return accept(deps, flow, event, requestId, path, run, test, completed)
}

async function accept(
  deps: HookDeps,
  flow: CompiledFlow,
  event: EngineEvent,
  requestId: string,
  path: string,
  run: RunResult,
  test: boolean,
  completed: boolean,
): Promise<Answer> {
  let result: Awaited<ReturnType<Store['accept']>> | undefined
  try {
    result = await deps.store.accept({
      eventId: event.id,
      requestId,
      flowId: flow.doc.id,
      flowVersion: flow.doc.version,
      path,
      receivedAt: event.receivedAt,
      headers: maskHeaders(event.headers),
      rawBody: event.rawBody,
      ...(run.duplicateOf === undefined ? {} : { duplicateOf: run.duplicateOf }),
      steps: run.steps,
      claims: run.claims,
      work: run.work,
      deadLetters: run.deadLetters,
      lineage: run.lineage,
      test,
    })
  } finally {
    deps.claims.release(run.claims, result?.status === 'duplicate' ? undefined : event.id)
  }
  const version = String(flow.doc.version)
  if (!test) {
    for (const dead of run.deadLetters) {
      deps.metrics.errors.inc({ flow: flow.doc.id, category: dead.error.category, version })
    }
  }
  const news = (status: EventNews['status'], answered: number): EventNews => ({
    type: 'event',
    eventId: event.id,
    flowId: flow.doc.id,
    flowVersion: flow.doc.version,
    status,
    at: event.receivedAt,
    answered,
  })
  if (result.status === 'duplicate') {
    if (!test) deps.metrics.dedupeHits.inc({ flow: flow.doc.id })
    const body = { duplicate: true, eventId: result.duplicateOf }
    return {
      status: 200,
      body,
      outcome: 'duplicate',
      recorded: true,
      news: news('duplicate', 200),
      flowVersion: flow.doc.version,
    }
  }
  if (run.work.length > 0) deps.onAccepted(run.work.length)
  if (completed && run.answer && !run.retry) {
    const headers = { 'x-event-id': event.id }
    const answered = run.answer.status
    return {
      status: answered,
      body: run.answer.body,
      headers,
      outcome: 'accepted',
      recorded: true,
      news: news(result.status, answered),
      flowVersion: flow.doc.version,
    }
  }
  return {
    status: 202,
    body: { eventId: event.id },
    outcome: 'accepted',
    recorded: true,
    news: news(result.status, 202),
    flowVersion: flow.doc.version,
  }
}

async function reject(
  deps: HookDeps,
  flow: CompiledFlow,
  event: EngineEvent,
  requestId: string,
  path: string,
  sizeBytes: number,
  test: boolean,
  run: RunResult,
): Promise<Answer> {
  const rejection = run.rejection as NonNullable<RunResult['rejection']>
  const diagnosis =
    rejection.code === 'invalid_signature' ? diagnoseRejection(flow, event, deps.services, rejection.node) : undefined
  if (!test) {
    if (rejection.code === 'schema_reject') deps.metrics.schemaRejects.inc({ flow: flow.doc.id })
    deps.metrics.errors.inc({
      flow: flow.doc.id,
      category: rejection.code === 'malformed_json' ? 'schema_reject' : rejection.code,
      version: String(flow.doc.version),
    })
  }
  const news: EventNews = {
    type: 'event',
    eventId: event.id,
    flowId: flow.doc.id,
    flowVersion: flow.doc.version,
    status: 'rejected',
    at: event.receivedAt,
    answered: rejection.status,
  }
  // Metadata only, never the unauthenticated body; the answer does not wait for this write, and the live
  // stream hears of it once it is stored, so a reader can open it at once.
  deps.store
    .recordRejection({
      eventId: event.id,
      requestId,
      flowId: flow.doc.id,
      flowVersion: flow.doc.version,
      path,
      receivedAt: event.receivedAt,
      status: rejection.status,
      code: rejection.code,
      message: rejection.message,
      sizeBytes,
      ...(diagnosis === undefined ? {} : { diagnosis }),
      ...(rejection.details === undefined ? {} : { details: rejection.details }),
    })
    .then(() => deps.bus.publish(news))
    .catch((err: unknown) => deps.logger.error({ err, requestId }, 'could not record a rejected delivery'))
  if (diagnosis)
    deps.logger.warn({ requestId, flowId: flow.doc.id, node: rejection.node, diagnosis }, 'signature rejected')
  const body =
    rejection.code === 'schema_reject'
      ? { error: { code: rejection.code, message: rejection.message, details: rejection.details } }
      : rejection.code === 'invalid_signature'
        ? error('invalid_signature', 'the signature is missing, stale or does not match')
        : error(rejection.code, rejection.message)
  const outcome: ReceiveOutcome = rejection.code
  return { status: rejection.status, body, outcome, recorded: true, flowVersion: flow.doc.version }
}

/** Refusals before the flow ran (404, 405, 413, 429, 503, 500) are recorded too: metadata only. */
function recordRefusal(
  deps: HookDeps,
  answer: Answer,
  flow: CompiledFlow | undefined,
  requestId: string,
  path: string,
  req: IncomingMessage,
): void {
  const { code, message } = (answer.body as { error?: { code: string; message: string } }).error ?? {
    code: answer.outcome,
    message: '',
  }
  const nowMs = deps.services.now()
  deps.store
    .recordRejection({
      eventId: newEventId(nowMs),
      requestId,
      ...(flow ? { flowId: flow.doc.id, flowVersion: flow.doc.version } : {}),
      path,
      receivedAt: new Date(nowMs).toISOString(),
      status: answer.status,
      code,
      message,
      sizeBytes: Number(req.headers['content-length'] ?? 0) || 0,
    })
    .catch((err: unknown) => deps.logger.error({ err, requestId }, 'could not record a refused delivery'))
}

/**
 * The trigger path of a webhook address. A malformed escape (`%E0%A4%A`) made decodeURIComponent throw outside
 * any catch, and one such request ended the process; it now matches no flow (404).
 */
function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

function backpressure(message: string, retryAfterSec: number): Answer {
  return {
    status: 503,
    body: error('backpressure', message),
    headers: { 'retry-after': String(retryAfterSec) },
    outcome: 'backpressure',
  }
}

function error(code: string, message: string) {
  return { error: { code, message } }
}

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<{ ok: true; bytes: Buffer } | { ok: false }> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    drain(req)
    return Promise.resolve({ ok: false })
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) over = true
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(over ? { ok: false } : { ok: true, bytes: Buffer.concat(chunks, size) }))
    req.on('error', reject)
  })
}

const QUOTE = 0x22
const BACKSLASH = 0x5c

/** Whether `[` and `{` outside strings ever open more than `limit` levels: one pass, no parse. */
export function nestedDeeperThan(bytes: Uint8Array, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]
    if (inString) {
      if (byte === BACKSLASH) i++
      else if (byte === QUOTE) inString = false
    } else if (byte === QUOTE) inString = true
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > limit) return true
    } else if (byte === 0x5d || byte === 0x7d) depth--
  }
  return false
}

/** Reads and drops a body we will not use, so the connection can carry the next request. */
function drain(req: IncomingMessage): void {
  req.resume()
}
