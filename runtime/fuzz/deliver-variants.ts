/**
 * @module Sends fuzz variants to a webhook: each signed at send time with a fresh message id, a bounded
 * number in flight, paced under the flow's rate limit, 429/backpressure answers waited out and sent again,
 * and `/healthz` checked along the way so a crashed server stops the run instead of failing every variant.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import type { FuzzVariant } from './variant.ts'
import type { FuzzAnswer } from './verdict.ts'

export interface FuzzTarget {
  /** The webhook URL. */
  url: string
  /** The runtime's `/healthz`. */
  healthUrl: string
  /** Signature headers for a body (the text the runtime decodes it to) and a fresh message id. */
  sign(rawBody: string, messageId: string): Record<string, string>
}

export interface FuzzDeliverOptions {
  concurrency: number
  /** Requests per second at most; 0: no pacing. */
  rate: number
  timeoutMs: number
  /** Adds `x-mapper-test: 1`: the runtime runs the flow without side effects and keeps it out of its figures. */
  testMarker: boolean
  /** Checks `/healthz` after every this many answers. */
  healthEvery: number
  /** Times a 429 or 503 backpressure answer is waited out and sent again. */
  maxRetries: number
  /** Called as each answer arrives (for progress). */
  onAnswer?(variant: FuzzVariant, answer: FuzzAnswer): void
}

export interface FuzzDelivery {
  /** Answers by variant index; a variant not sent (run stopped) has none. */
  answers: Array<FuzzAnswer | undefined>
  healthy: boolean
  aborted?: string
  durationMs: number
}

/** The longest a Retry-After is honoured: fuzzing waits, but not for minutes. */
const MAX_RETRY_WAIT_MS = 5_000
const HEALTH_TRIES = 3

function networkCode(error: unknown): string {
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return (error as Error).message || 'network_error'
  return /TIMEOUT/i.test(code) || code === 'ABORT_ERR' ? 'timeout' : code
}

function readAnswer(text: string): { code?: string; details?: unknown } {
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; details?: unknown } }).error
    return {
      ...(typeof error?.code === 'string' ? { code: error.code } : {}),
      ...(error?.details === undefined ? {} : { details: error.details }),
    }
  } catch {
    return {}
  }
}

async function healthy(target: FuzzTarget, timeoutMs: number): Promise<boolean> {
  for (let attempt = 0; attempt < HEALTH_TRIES; attempt++) {
    try {
      const answer = await fetch(target.healthUrl, { signal: AbortSignal.timeout(timeoutMs) })
      await answer.arrayBuffer()
      if (answer.ok) return true
    } catch {
      // not answering: try again shortly
    }
    await sleep(500)
  }
  return false
}

async function sendOnce(
  agent: Agent,
  target: FuzzTarget,
  variant: FuzzVariant,
  options: FuzzDeliverOptions,
  messageId: string,
): Promise<FuzzAnswer & { retryAfterMs?: number }> {
  const rawBody = Buffer.from(variant.body).toString('utf8')
  const headers: Record<string, string> = {
    'user-agent': 'mapper-fuzz/0.1',
    ...(variant.contentType === null ? {} : { 'content-type': variant.contentType }),
    ...target.sign(rawBody, messageId),
    ...(options.testMarker ? { 'x-mapper-test': '1' } : {}),
  }
  const started = performance.now()
  try {
    const answer = await request(target.url, {
      method: 'POST',
      headers,
      body: Buffer.from(variant.body),
      dispatcher: agent,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: AbortSignal.timeout(options.timeoutMs),
    })
    const text = await answer.body.text()
    const ms = Math.round((performance.now() - started) * 100) / 100
    const retryAfter = Number(answer.headers['retry-after'])
    return {
      status: answer.statusCode,
      ms,
      ...readAnswer(text),
      ...(Number.isFinite(retryAfter) ? { retryAfterMs: retryAfter * 1000 } : {}),
    }
  } catch (error) {
    return { code: networkCode(error), ms: Math.round((performance.now() - started) * 100) / 100 }
  }
}

function waitedOut(answer: FuzzAnswer): boolean {
  return answer.status === 429 || (answer.status === 503 && answer.code === 'backpressure')
}

/** Sends every variant (in order of index, `concurrency` at a time) and collects the answers. */
export async function deliverVariants(
  target: FuzzTarget,
  variants: readonly FuzzVariant[],
  options: FuzzDeliverOptions,
  messageId: (variant: FuzzVariant, attempt: number) => string,
): Promise<FuzzDelivery> {
  const agent = new Agent({ connections: options.concurrency, keepAliveTimeout: 10_000 })
  const answers: Array<FuzzAnswer | undefined> = new Array(variants.length)
  const started = performance.now()
  let next = 0
  let answered = 0
  let aborted: string | undefined
  let checking: Promise<boolean> | undefined
  const paced = async (slot: number) => {
    if (options.rate <= 0) return
    const wait = started + (slot * 1000) / options.rate - performance.now()
    if (wait > 1) await sleep(wait)
  }
  let slots = 0
  const worker = async () => {
    while (next < variants.length && aborted === undefined) {
      const variant = variants[next++] as FuzzVariant
      let answer: FuzzAnswer & { retryAfterMs?: number } = { ms: 0 }
      let retries = 0
      for (;;) {
        await paced(slots++)
        answer = await sendOnce(agent, target, variant, options, messageId(variant, retries))
        if (!waitedOut(answer) || retries >= options.maxRetries) break
        retries++
        await sleep(Math.min(MAX_RETRY_WAIT_MS, Math.max(200, answer.retryAfterMs ?? 1000)))
      }
      const { retryAfterMs: _, ...kept } = answer
      const final: FuzzAnswer = retries > 0 ? { ...kept, retries } : kept
      answers[variant.index] = final
      options.onAnswer?.(variant, final)
      answered++
      const lost = final.status === undefined
      if (lost || answered % options.healthEvery === 0) {
        checking ??= healthy(target, options.timeoutMs).finally(() => {
          checking = undefined
        })
        if (!(await checking)) aborted ??= `the server stopped answering /healthz after variant ${variant.index}`
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, variants.length)) }, worker))
  } finally {
    await agent.close().catch(() => undefined)
  }
  const stillHealthy = aborted === undefined && (await healthy(target, options.timeoutMs))
  return {
    answers,
    healthy: stillHealthy,
    ...(aborted === undefined ? {} : { aborted }),
    durationMs: performance.now() - started,
  }
}
