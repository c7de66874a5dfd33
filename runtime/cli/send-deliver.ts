/** @module `mapper send`: the delivery loop — signs at send time, paces to a rate, keeps C requests in flight over keep-alive. */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { signDelivery } from '../signatures/index.ts'
import { type PlannedDelivery, tamperBody } from './send-plan.ts'
import type { SendTarget } from './send-target.ts'

export interface DeliveryOutcome {
  index: number
  tampered: boolean
  duplicateOf?: number
  /** The event as the sender knows it (payload id), when it has one. */
  eventKey?: string
  /** HTTP status; absent when the request failed (network error, timeout). */
  status?: number
  /** `error.code` of a 4xx/5xx answer (`http_<status>` when it has none), or the network error's code. */
  code?: string
  /** The runtime's event id from a 2xx answer. */
  eventId?: string
  /** The answer said `duplicate: true`. */
  duplicate?: boolean
  latencyMs: number
}

export interface DeliverOptions {
  rate: number
  concurrency: number
  skewSec: number
  testMarker: boolean
  headers: Record<string, string>
  timeoutMs: number
}

function signedHeaders(target: SendTarget, delivery: PlannedDelivery, skewSec: number): Record<string, string> {
  if (target.scheme === 'none') return {}
  return signDelivery(target.scheme, target.secret as string, delivery.payload.body, {
    header: target.header,
    timestampSec: Date.now() / 1000 + skewSec,
    id: delivery.messageId,
    algorithm: target.algorithm,
    encoding: target.encoding,
    prefix: target.prefix,
  })
}

function networkCode(error: unknown): string {
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return 'network_error'
  return /TIMEOUT/i.test(code) || code === 'ABORT_ERR' ? 'timeout' : code
}

function readAnswer(status: number, text: string): Pick<DeliveryOutcome, 'code' | 'eventId' | 'duplicate'> {
  let json: { eventId?: unknown; duplicate?: unknown; error?: { code?: unknown } } | undefined
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  if (status >= 400) {
    const code = json?.error?.code
    return { code: typeof code === 'string' ? code : `http_${status}` }
  }
  return {
    eventId: typeof json?.eventId === 'string' ? json.eventId : undefined,
    duplicate: json?.duplicate === true,
  }
}

async function deliverOne(
  agent: Agent,
  target: SendTarget,
  delivery: PlannedDelivery,
  options: DeliverOptions,
): Promise<DeliveryOutcome> {
  const signature = signedHeaders(target, delivery, options.skewSec)
  const body = delivery.tampered ? tamperBody(delivery.payload.body) : delivery.payload.body
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'mapper-send/0.1',
    ...signature,
    ...(options.testMarker ? { 'x-mapper-test': '1' } : {}),
    ...options.headers,
  }
  const base = {
    index: delivery.index,
    tampered: delivery.tampered,
    duplicateOf: delivery.duplicateOf,
    eventKey: delivery.payload.eventKey,
  }
  const started = performance.now()
  try {
    const answer = await request(target.url, {
      method: 'POST',
      headers,
      body,
      dispatcher: agent,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: AbortSignal.timeout(options.timeoutMs),
    })
    const text = await answer.body.text()
    const latencyMs = performance.now() - started
    return { ...base, status: answer.statusCode, latencyMs, ...readAnswer(answer.statusCode, text) }
  } catch (error) {
    return { ...base, code: networkCode(error), latencyMs: performance.now() - started }
  }
}

/**
 * Sends every planned delivery with at most `concurrency` in flight, the i-th not before
 * start + i / rate. A re-send waits for its original's answer first, as a retrying sender would.
 */
export async function deliverAll(
  target: SendTarget,
  plan: readonly PlannedDelivery[],
  options: DeliverOptions,
): Promise<{ outcomes: DeliveryOutcome[]; durationMs: number }> {
  const concurrency = Math.max(1, Math.floor(options.concurrency))
  const agent = new Agent({
    connections: concurrency,
    keepAliveTimeout: 30_000,
    connect: { timeout: options.timeoutMs },
  })
  const outcomes: DeliveryOutcome[] = new Array(plan.length)
  const done: Promise<unknown>[] = new Array(plan.length)
  const resolvers: ((value: unknown) => void)[] = plan.map((_, i) => {
    let resolve!: (value: unknown) => void
    done[i] = new Promise((r) => {
      resolve = r
    })
    return resolve
  })
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < plan.length) {
      const delivery = plan[next++] as PlannedDelivery
      if (options.rate > 0) {
        const due = started + (delivery.index * 1000) / options.rate
        const wait = due - performance.now()
        if (wait > 1) await sleep(wait)
      }
      if (delivery.duplicateOf !== undefined) await done[delivery.duplicateOf]
      outcomes[delivery.index] = await deliverOne(agent, target, delivery, options)
      resolvers[delivery.index]?.(undefined)
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, plan.length) }, worker))
  } finally {
    await agent.close()
  }
  return { outcomes, durationMs: performance.now() - started }
}
