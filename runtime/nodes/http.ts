/** @module http — calls an API and classifies the answer as ok, retriable or not. */
import { Type } from '@sinclair/typebox'
import { defineNodeKind, type OutboundRequest, type OutboundResponse } from '../model/node-kind.ts'
import { jsonataSchema, secretRefSchema, stringEnum, templateSchema } from '../model/schema-helpers.ts'
import { StepError } from '../model/step-error.ts'
import { varNamesIn } from '../model/template.ts'
import { isSecretRef, type SecretRef } from '../model/types.ts'

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000
/** Immediate, 5 s, 30 s, 5 min, 30 min — the schedule real senders use too. */
export const DEFAULT_RETRY_DELAYS_MS = [0, 5_000, 30_000, 300_000, 1_800_000]
const RETRIABLE_STATUSES = new Set([408, 425, 429])

export const http = defineNodeKind({
  kind: 'http',
  title: 'HTTP request',
  description: 'Calls an API with an Idempotency-Key; network errors, timeouts, 408, 425, 429 and 5xx are retried.',
  phase: 'work',
  effect: true,
  color: '#2563eb',
  config: Type.Object(
    {
      method: stringEnum(['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] as const, { title: 'Method', default: 'POST' }),
      url: templateSchema({ title: 'URL', description: 'https://crm.example/{{data.reportId}}' }),
      body: Type.Optional(jsonataSchema({ title: 'Body (JSONata)', description: 'defaults to $, the payload' })),
      headers: Type.Optional(
        Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]+$' }), Type.Union([Type.String(), secretRefSchema()]), {
          title: 'Headers',
        }),
      ),
      timeoutMs: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 300_000, default: DEFAULT_HTTP_TIMEOUT_MS, title: 'Timeout (ms)' }),
      ),
      retry: Type.Optional(
        Type.Object(
          {
            delaysMs: Type.Array(Type.Integer({ minimum: 0 }), {
              minItems: 1,
              maxItems: 20,
              title: 'Wait before each attempt (ms)',
            }),
          },
          { additionalProperties: false, title: 'Retry' },
        ),
      ),
      sign: Type.Optional(
        Type.Object(
          {
            scheme: stringEnum(['stripe', 'standard-webhooks'] as const, { title: 'Scheme' }),
            secret: secretRefSchema({ title: 'Signing secret' }),
            header: Type.Optional(Type.String({ minLength: 1, title: 'Signature header' })),
          },
          { additionalProperties: false, title: 'Outbound signing' },
        ),
      ),
    },
    { additionalProperties: false },
  ),
  defaults: { method: 'POST', url: 'https://api.example.com/items', timeoutMs: DEFAULT_HTTP_TIMEOUT_MS },
  ports: () => ({ ok: { title: '2xx' }, error: { title: 'error', error: ['retriable', 'non_retriable'] } }),
  retryDelaysMs: (config) => config.retry?.delaysMs ?? DEFAULT_RETRY_DELAYS_MS,
  compileTargets: (config) => [
    { type: 'template', field: 'url', source: config.url },
    ...(config.body === undefined ? [] : [{ type: 'expression' as const, field: 'body', source: config.body }]),
  ],
  async run(config, ctx) {
    const payload = config.body === undefined ? ctx.input : await ctx.evaluate(config.body)
    const hasBody = config.method !== 'GET'
    const body = hasBody ? JSON.stringify(payload ?? null) : undefined
    const headers: Record<string, string> = {
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      'idempotency-key': `${ctx.event.id}:${ctx.node.id}`,
    }
    const secretHeaders = new Set<string>()
    for (const [name, value] of Object.entries(config.headers ?? {})) {
      headers[name.toLowerCase()] = isSecretRef(value) ? firstSecret(ctx.secret(value), value) : value
      if (isSecretRef(value)) secretHeaders.add(name.toLowerCase())
    }
    if (config.sign && body !== undefined) {
      const secret = firstSecret(ctx.secret(config.sign.secret), config.sign.secret)
      const signature = ctx.signPayload(config.sign.scheme, secret, body, config.sign.header)
      Object.assign(headers, signature)
      for (const name of Object.keys(signature)) secretHeaders.add(name)
    }
    const request: OutboundRequest = {
      method: config.method,
      url: await ctx.template(config.url),
      headers,
      ...(body === undefined ? {} : { body }),
      timeoutMs: config.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS,
    }
    // Step records show the request with secret values masked; only the wire gets them.
    const shown = { ...request, headers: maskHeaders(request.headers, secretHeaders) }
    if (!ctx.sideEffects) return { port: 'ok', output: null, request: shown, note: { sent: false } }
    if (!URL.canParse(request.url)) throw unusableUrl(request.url, config.url)

    let response: OutboundResponse
    try {
      response = await ctx.fetch(request)
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause)
      throw new StepError('retriable', `${request.method} ${request.url} failed: ${reason}`, { cause })
    }
    const answer = { status: response.status, body: parseBody(response.body) }
    classify(request, response, ctx.now())
    return { port: 'ok', output: answer.body, request: shown, response: answer }
  },
})

/**
 * A URL the template rendered but no server can be at: asking again gives the same URL, so it is not retried.
 * Most often a `$vars.NAME` base the runtime was started without.
 */
function unusableUrl(url: string, template: string): StepError {
  const vars = varNamesIn(template)
  const hint =
    vars.length === 0
      ? ''
      : `; if ${vars.map((name) => `$vars.${name}`).join(', ')} is not set, start the runtime with ${vars
          .map((name) => `MAPPER_VAR_${name}`)
          .join(', ')} (or --var ${vars[0]}=…) and replay`
  return new StepError('non_retriable', `url: "${url}" (from ${JSON.stringify(template)}) is not a URL${hint}`)
}

function maskHeaders(headers: Record<string, string>, secret: ReadonlySet<string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, secret.has(name) ? '[secret]' : value]),
  )
}

function firstSecret(values: string[], ref: SecretRef): string {
  const value = values[0]
  if (value === undefined) throw new StepError('non_retriable', `secret ${ref.ref} is not set`)
  return value
}

/** Throws the StepError a non-2xx answer stands for; returns for 2xx. */
export function classify(request: OutboundRequest, response: OutboundResponse, nowMs: number): void {
  const { status } = response
  if (status >= 200 && status < 300) return
  const what = `${request.method} ${request.url} answered ${status}`
  const details = { body: response.body.slice(0, 2_000) }
  if (status >= 500 || RETRIABLE_STATUSES.has(status)) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], nowMs)
    throw new StepError('retriable', what, {
      status,
      details,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    })
  }
  throw new StepError('non_retriable', what, { status, details })
}

/** `Retry-After` is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

function parseBody(text: string): unknown {
  if (text === '') return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
