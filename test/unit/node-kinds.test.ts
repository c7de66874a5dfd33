/** @module Each node kind run directly with a fake context: real JSONata, ajv and signatures, a scripted world. */
import { createHmac } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import { createAjv } from '../../runtime/model/ajv.ts'
import type { SignatureCheck } from '../../runtime/model/node-kind.ts'
import { StepError } from '../../runtime/model/step-error.ts'
import { ERROR_CATEGORIES } from '../../runtime/model/types.ts'
import { branch } from '../../runtime/nodes/branch.ts'
import { dedupe } from '../../runtime/nodes/dedupe.ts'
import { DEFAULT_RETRY_DELAYS_MS, http } from '../../runtime/nodes/http.ts'
import { nodeKindList, nodeKinds } from '../../runtime/nodes/index.ts'
import { respond } from '../../runtime/nodes/respond.ts'
import { transform } from '../../runtime/nodes/transform.ts'
import { validate } from '../../runtime/nodes/validate.ts'
import { verify } from '../../runtime/nodes/verify.ts'
import { FAKE_NOW_MS, type FakeWorld, fakeContext } from '../support/fake-context.ts'
import { readFixture } from '../support/paths.ts'

const NOW_SEC = Math.floor(FAKE_NOW_MS / 1000)
const BODY = '{"id":"evt_abc123","type":"report.completed","data":{"reportId":"r 42/x","jobId":"job-7"}}'
const SECRET = 'whsec_conduitSecretForTests0123456789'
const OLD_SECRET = 'whsec_previousConduitSecret9876543210'

/** A stripe-scheme header computed with node:crypto, independently of runtime/signatures. */
function stripeHeader(secret: string, body: string, t = NOW_SEC): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`
}

/** Runs `fn` and returns the StepError it throws; fails the test when it throws anything else or nothing. */
async function stepErrorOf(fn: () => Promise<unknown>): Promise<StepError> {
  try {
    await fn()
  } catch (error) {
    expect(error).toBeInstanceOf(StepError)
    return error as StepError
  }
  throw new Error('expected a StepError, but the node returned')
}

describe('the node kind registry', () => {
  const ajv = createAjv()

  it('lists exactly verify, validate, dedupe, transform, branch, http and respond, in that order', () => {
    expect(nodeKindList.map((k) => k.kind)).toEqual([
      'verify',
      'validate',
      'dedupe',
      'transform',
      'branch',
      'http',
      'respond',
    ])
  })

  for (const kind of nodeKindList) {
    describe(kind.kind, () => {
      it('has defaults that pass its own config schema', () => {
        const check = ajv.compile(kind.config)
        expect(check(kind.defaults), JSON.stringify(check.errors)).toBe(true)
      })

      it('is registered under its own kind id', () => {
        expect(kind.kind).toMatch(/^[a-z][a-z-]*$/)
        expect(nodeKinds.get(kind.kind)).toBe(kind)
      })

      it('has a title, a description and a colour for the editor', () => {
        expect(kind.title.trim()).not.toBe('')
        expect(kind.description.trim()).not.toBe('')
        expect(kind.color).toMatch(/^#[0-9a-f]{6}$/i)
        expect(['guard', 'work']).toContain(kind.phase)
      })

      it('gives a port map for its defaults whose error ports carry known categories', () => {
        const ports = kind.ports(kind.defaults)
        expect(typeof ports).toBe('object')
        if (kind.kind !== 'respond') expect(Object.keys(ports).length).toBeGreaterThan(0)
        for (const [name, spec] of Object.entries(ports)) {
          expect(name).toMatch(/^[a-z][a-z0-9_-]*$/)
          for (const category of spec.error ?? []) expect(ERROR_CATEGORIES).toContain(category)
        }
      })
    })
  }

  it('gives respond no ports, since it ends the path', () => {
    expect(respond.ports(respond.defaults)).toEqual({})
  })
})

describe('verify', () => {
  const config = {
    scheme: 'stripe' as const,
    header: 'Conduit-Signature',
    secret: { ref: 'CONDUIT_WEBHOOK_SECRET' },
    toleranceSec: 300,
  }
  const world: FakeWorld = { secrets: { CONDUIT_WEBHOOK_SECRET: [SECRET, OLD_SECRET] } }

  it('leaves through ok when the body carries a valid signature', async () => {
    const ctx = fakeContext({ rawBody: BODY, headers: { 'conduit-signature': stripeHeader(SECRET, BODY) } }, world)
    const result = await verify.run(config, ctx)
    expect(result).toMatchObject({ port: 'ok', note: { scheme: 'stripe', secretIndex: 0 } })
  })

  it('reports which secret matched during a key rotation', async () => {
    const ctx = fakeContext({ rawBody: BODY, headers: { 'conduit-signature': stripeHeader(OLD_SECRET, BODY) } }, world)
    const result = await verify.run(config, ctx)
    expect(result).toMatchObject({ port: 'ok', note: { scheme: 'stripe', secretIndex: 1 } })
  })

  it('throws invalid_signature when the body was changed after signing', async () => {
    const ctx = fakeContext(
      { rawBody: BODY.replace('r 42/x', 'r 43/x'), headers: { 'conduit-signature': stripeHeader(SECRET, BODY) } },
      world,
    )
    const error = await stepErrorOf(() => verify.run(config, ctx))
    expect(error.category).toBe('invalid_signature')
    expect(error.details).toEqual({ code: 'mismatch' })
  })

  it('throws invalid_signature with missing_header when the signature header is absent', async () => {
    const ctx = fakeContext({ rawBody: BODY, headers: {} }, world)
    const error = await stepErrorOf(() => verify.run(config, ctx))
    expect(error.category).toBe('invalid_signature')
    expect(error.details).toEqual({ code: 'missing_header' })
  })

  it('throws invalid_signature when the timestamp is older than the tolerance', async () => {
    const stale = stripeHeader(SECRET, BODY, NOW_SEC - 301)
    const ctx = fakeContext({ rawBody: BODY, headers: { 'conduit-signature': stale } }, world)
    const error = await stepErrorOf(() => verify.run(config, ctx))
    expect(error.category).toBe('invalid_signature')
    expect(error.details).toEqual({ code: 'stale_timestamp' })
  })

  it('asks the checker with the header name lower-cased, every secret and the tolerance', async () => {
    const checks: SignatureCheck[] = []
    const ctx = fakeContext(
      {
        verifySignature: (check) => {
          checks.push(check)
          return { ok: true, secretIndex: 0 }
        },
      },
      world,
    )
    await verify.run(config, ctx)
    expect(checks).toEqual([
      { scheme: 'stripe', header: 'conduit-signature', secrets: [SECRET, OLD_SECRET], toleranceSec: 300 },
    ])
  })

  it('passes the hmac options and the default tolerance through to the checker', async () => {
    const checks: SignatureCheck[] = []
    const ctx = fakeContext(
      {
        verifySignature: (check) => {
          checks.push(check)
          return { ok: true, secretIndex: 0 }
        },
      },
      world,
    )
    await verify.run(
      {
        scheme: 'hmac',
        header: 'X-Hub-Signature-256',
        secret: { ref: 'CONDUIT_WEBHOOK_SECRET' },
        algorithm: 'sha256',
        encoding: 'hex',
        prefix: 'sha256=',
      },
      ctx,
    )
    expect(checks[0]).toEqual({
      scheme: 'hmac',
      header: 'x-hub-signature-256',
      secrets: [SECRET, OLD_SECRET],
      toleranceSec: 300,
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: 'sha256=',
    })
  })
})

describe('validate', () => {
  const schema = {
    type: 'object',
    required: ['id', 'type'],
    properties: { id: { type: 'string' }, type: { type: 'string' }, amount: { type: 'number' } },
  }

  it('leaves through ok when the payload matches an inline schema', async () => {
    const ctx = fakeContext({ input: { id: 'e1', type: 'report.completed', amount: 3 } })
    expect(await validate.run({ schema }, ctx)).toEqual({ port: 'ok' })
  })

  it('leaves through ok when a delivery matches its schemas/ reference', async () => {
    const ctx = fakeContext({ input: JSON.parse(readFixture('conduit/report.completed.json')) })
    expect(await validate.run({ schema: 'conduit/event.v1' }, ctx)).toEqual({ port: 'ok' })
  })

  it('validates against a schemas/ reference', async () => {
    const ctx = fakeContext({ input: JSON.parse(BODY) })
    const error = await stepErrorOf(() => validate.run({ schema: 'conduit/event.v1' }, ctx))
    // The body has no createdAt: the envelope schema from schemas/conduit/event.v1 requires it.
    expect(error.details).toContainEqual({ path: '/createdAt', rule: 'required', message: 'is required but missing' })
  })

  it('throws schema_reject with every error as {path, rule, message}', async () => {
    const ctx = fakeContext({ input: { id: 7, amount: 'ten' } })
    const error = await stepErrorOf(() => validate.run({ schema }, ctx))
    expect(error.category).toBe('schema_reject')
    const details = error.details as Array<Record<string, unknown>>
    expect(details).toHaveLength(3)
    for (const detail of details) expect(Object.keys(detail).sort()).toEqual(['message', 'path', 'rule'])
  })

  it('reports a missing required field at its own path with the rule required', async () => {
    const ctx = fakeContext({ input: { id: 'e1' } })
    const error = await stepErrorOf(() => validate.run({ schema }, ctx))
    expect(error.details).toEqual([{ path: '/type', rule: 'required', message: 'is required but missing' }])
    expect(error.message).toContain('/type')
  })

  it('names the type of the value that arrived in a type error', async () => {
    const ctx = fakeContext({ input: { id: 'e1', type: 'x', amount: 'ten' } })
    const error = await stepErrorOf(() => validate.run({ schema }, ctx))
    expect(error.details).toEqual([{ path: '/amount', rule: 'type', message: 'must be number (got string)' }])
  })

  it('tells an integer from an object when the value has the wrong type', async () => {
    const ctx = fakeContext({ input: { id: 42, type: { nested: true } } })
    const error = await stepErrorOf(() => validate.run({ schema }, ctx))
    const messages = (error.details as Array<{ path: string; message: string }>).map((d) => `${d.path} ${d.message}`)
    expect(messages).toEqual(['/id must be string (got integer)', '/type must be string (got object)'])
  })
})

describe('dedupe', () => {
  const config = { key: 'id', ttlSec: 60 }

  it('leaves through new for a first key and through duplicate, naming the first event, for the same key', async () => {
    const claims = new Map<string, string>()
    const node = { id: 'dedupe', kind: 'dedupe', config }
    const event = (id: string) => ({ id, receivedAt: '2026-01-17T12:05:03.000Z', flowId: 'f', flowVersion: 1 })
    const first = fakeContext({ node, event: event('evt-first'), input: { id: 'k1' } }, { claims })
    const second = fakeContext({ node, event: event('evt-second'), input: { id: 'k1' } }, { claims })
    expect(await dedupe.run(config, first)).toEqual({ port: 'new', note: { key: 'k1' } })
    expect(await dedupe.run(config, second)).toEqual({
      port: 'duplicate',
      note: { key: 'k1', firstEventId: 'evt-first' },
    })
  })

  it('claims for the configured window, and for seven days by default', async () => {
    const windows: number[] = []
    const claim = async (_key: string, ttlSec: number) => {
      windows.push(ttlSec)
      return { claimed: true }
    }
    await dedupe.run(config, fakeContext({ input: { id: 'a' }, claim }))
    await dedupe.run({ key: 'id' }, fakeContext({ input: { id: 'b' }, claim }))
    expect(windows).toEqual([60, 604_800])
  })

  it('computes the key from a request header', async () => {
    const claim = vi.fn(async () => ({ claimed: true }))
    const ctx = fakeContext({ input: {}, headers: { 'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' }, claim })
    const result = await dedupe.run({ key: '$headers.`webhook-id`' }, ctx)
    expect(result).toEqual({ port: 'new', note: { key: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' } })
    expect(claim).toHaveBeenCalledWith('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', 604_800)
  })

  it('keys on the JSON text of a non-string key', async () => {
    const result = await dedupe.run({ key: '[task, progress]' }, fakeContext({ input: { task: 't1', progress: 40 } }))
    expect(result.note).toEqual({ key: '["t1",40]' })
  })

  for (const [what, input] of [
    ['missing', {}],
    ['empty', { id: '' }],
    ['null', { id: null }],
  ] as const) {
    it(`throws schema_reject when the key is ${what}`, async () => {
      const claim = vi.fn(async () => ({ claimed: true }))
      const error = await stepErrorOf(() => dedupe.run(config, fakeContext({ input, claim })))
      expect(error.category).toBe('schema_reject')
      expect(error.details).toEqual([expect.objectContaining({ rule: 'dedupeKey' })])
      expect(claim).not.toHaveBeenCalled()
    })
  }
})

describe('transform', () => {
  it('leaves through ok with the mapped payload and its field lineage', async () => {
    const expression = '{ "externalId": data.reportId, "status": $uppercase(type), "eventId": $event.id }'
    const ctx = fakeContext({ input: JSON.parse(BODY) })
    expect(await transform.run({ expression }, ctx)).toEqual({
      port: 'ok',
      output: { externalId: 'r 42/x', status: 'REPORT.COMPLETED', eventId: 'evt-1' },
      lineage: { externalId: ['data.reportId'], status: ['type'], eventId: ['$event.id'] },
    })
  })

  it('sees the request headers as $headers', async () => {
    const ctx = fakeContext({ input: {}, headers: { 'user-agent': 'conduit/2' } })
    const result = await transform.run({ expression: '{ "via": $headers.`user-agent` }' }, ctx)
    expect(result.output).toEqual({ via: 'conduit/2' })
  })

  it('hands on null when the expression gives nothing', async () => {
    const result = await transform.run({ expression: 'missing.field' }, fakeContext({ input: {} }))
    expect(result.output).toBeNull()
  })

  it('throws transform_error with the JSONata message when the expression fails at run time', async () => {
    const ctx = fakeContext({ input: { amount: 'ten' } })
    const error = await stepErrorOf(() => transform.run({ expression: '{ "total": amount + 1 }' }, ctx))
    expect(error.category).toBe('transform_error')
    expect(error.message).toContain('The left side of the "+" operator must evaluate to a number')
    expect(error.message).toContain('T2001')
  })
})

describe('branch', () => {
  const cases = {
    cases: [
      { port: 'completed', when: 'type = "report.completed"' },
      { port: 'report', when: '$substringBefore(type, ".") = "report"' },
      { port: 'big', when: 'amount > 100' },
    ],
  }

  it('leaves through the first case whose condition holds, even when later ones hold too', async () => {
    const result = await branch.run(cases, fakeContext({ input: { type: 'report.completed', amount: 500 } }))
    expect(result).toEqual({ port: 'completed' })
  })

  it('takes cases in their order, so reordering them changes the port', async () => {
    const reordered = { cases: [cases.cases[1], cases.cases[0]] as typeof cases.cases }
    const result = await branch.run(reordered, fakeContext({ input: { type: 'report.completed' } }))
    expect(result).toEqual({ port: 'report' })
  })

  it('leaves through a later case when earlier ones do not hold', async () => {
    const result = await branch.run(cases, fakeContext({ input: { type: 'matching.failed', amount: 500 } }))
    expect(result).toEqual({ port: 'big' })
  })

  it('leaves through otherwise when no case holds', async () => {
    const result = await branch.run(cases, fakeContext({ input: { type: 'matching.failed', amount: 1 } }))
    expect(result).toEqual({ port: 'otherwise' })
  })

  it('treats an empty array, an empty string and zero as false, like JSONata', async () => {
    const falsy = {
      cases: [
        { port: 'a', when: 'items' },
        { port: 'b', when: 'label' },
        { port: 'c', when: 'n' },
      ],
    }
    const ctx = fakeContext({ input: { items: [], label: '', n: 0 } })
    expect(await branch.run(falsy, ctx)).toEqual({ port: 'otherwise' })
  })

  it('routes by the category of the incoming error', async () => {
    const error = { category: 'retriable' as const, message: 'downstream answered 503' }
    const result = await branch.run({ by: 'errorCategory' }, fakeContext({ input: {}, error }))
    expect(result).toEqual({ port: 'retriable' })
  })

  it('routes by error category to otherwise when no error arrived', async () => {
    expect(await branch.run({ by: 'errorCategory' }, fakeContext({ input: {} }))).toEqual({ port: 'otherwise' })
  })

  it('lists a port per case and otherwise', () => {
    expect(Object.keys(branch.ports(cases))).toEqual(['completed', 'report', 'big', 'otherwise'])
  })

  it('lists a port per error category and otherwise when routing by error category', () => {
    expect(Object.keys(branch.ports({ by: 'errorCategory' }))).toEqual([...ERROR_CATEGORIES, 'otherwise'])
  })
})

describe('http', () => {
  const config = {
    method: 'PUT' as const,
    url: '{{$vars.CRM_BASE_URL}}/reports/{{data.reportId}}?job={{data.jobId}}',
    headers: { 'X-Api-Key': { ref: 'CRM_API_KEY' }, 'X-Source': 'mapper' },
    timeoutMs: 5_000,
  }
  const world: FakeWorld = {
    secrets: { CRM_API_KEY: ['crm-key-new', 'crm-key-old'], OUT_SECRET: ['whsec_outboundSecretForTests0123'] },
    vars: { CRM_BASE_URL: 'https://crm.test/v1' },
  }
  const node = { id: 'crm-report', kind: 'http', config }
  const payload = JSON.parse(BODY)

  function httpContext(overrides: Parameters<typeof fakeContext>[0] = {}, more: FakeWorld = {}) {
    return fakeContext({ node, input: payload, ...overrides }, { ...world, ...more })
  }

  it('sends the method, the URL with encoded values, the JSON payload and the headers', async () => {
    const ctx = httpContext()
    const result = await http.run(config, ctx)
    const request = {
      method: 'PUT',
      url: 'https://crm.test/v1/reports/r%2042%2Fx?job=job-7',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': 'evt-1:crm-report',
        'x-api-key': 'crm-key-new',
        'x-source': 'mapper',
      },
      body: JSON.stringify(payload),
      timeoutMs: 5_000,
    }
    expect(ctx.requests).toEqual([request])
    const shown = { ...request, headers: { ...request.headers, 'x-api-key': '[secret]' } }
    expect(result).toEqual({ port: 'ok', output: {}, request: shown, response: { status: 200, body: {} } })
  })

  it('calls nothing and names the unset $vars when the URL it renders is not a URL', async () => {
    const ctx = httpContext({}, { vars: {} })
    const failure = await http.run(config, ctx).then(
      () => undefined,
      (error: StepError) => error,
    )
    expect(failure?.category).toBe('non_retriable')
    expect(failure?.message).toMatch(/^url: "\/reports\/r%2042%2Fx\?job=job-7" \(from "\{\{\$vars\.CRM_BASE_URL\}\}/)
    expect(failure?.message).toContain('start the runtime with MAPPER_VAR_CRM_BASE_URL')
    expect(ctx.requests).toEqual([])
  })

  it('sends the body expression’s value when one is configured', async () => {
    const ctx = httpContext()
    await http.run({ ...config, body: '{ "ref": data.reportId }' }, ctx)
    expect(ctx.requests[0]?.body).toBe('{"ref":"r 42/x"}')
  })

  it('sends no body and no content-type for GET, and the default timeout', async () => {
    const ctx = httpContext()
    await http.run({ method: 'GET', url: 'https://crm.test/items/{{id}}' }, ctx)
    expect(ctx.requests).toEqual([
      {
        method: 'GET',
        url: 'https://crm.test/items/evt_abc123',
        headers: { 'idempotency-key': 'evt-1:crm-report' },
        timeoutMs: 10_000,
      },
    ])
  })

  it('keeps the Idempotency-Key the same on every attempt', async () => {
    const first = httpContext({ attempt: 1 })
    const third = httpContext({ attempt: 3 })
    await http.run(config, first)
    await http.run(config, third)
    expect(first.requests[0]?.headers['idempotency-key']).toBe('evt-1:crm-report')
    expect(third.requests[0]?.headers['idempotency-key']).toBe('evt-1:crm-report')
  })

  it('sends nothing without side effects and returns the request it would send', async () => {
    const ctx = httpContext({ sideEffects: false })
    const result = await http.run(config, ctx)
    expect(ctx.requests).toEqual([])
    expect(result).toMatchObject({
      port: 'ok',
      output: null,
      note: { sent: false },
      request: { method: 'PUT', url: 'https://crm.test/v1/reports/r%2042%2Fx?job=job-7' },
    })
  })

  it('throws non_retriable when a secret header refers to a secret that is not set', async () => {
    const ctx = httpContext({}, { secrets: {} })
    const error = await stepErrorOf(() => http.run(config, ctx))
    expect(error.category).toBe('non_retriable')
    expect(error.message).toContain('CRM_API_KEY')
    expect(ctx.requests).toEqual([])
  })

  it('parses a JSON answer as the output and keeps a text answer as text', async () => {
    const json = await http.run(config, httpContext({}, { downstream: [{ status: 201, body: '{"crmId":9}' }] }))
    expect(json.output).toEqual({ crmId: 9 })
    const text = await http.run(config, httpContext({}, { downstream: [{ status: 200, body: 'OK' }] }))
    expect(text.output).toBe('OK')
  })

  for (const status of [200, 201, 204]) {
    it(`leaves through ok when the downstream answers ${status}`, async () => {
      const result = await http.run(config, httpContext({}, { downstream: [{ status, body: '' }] }))
      expect(result.port).toBe('ok')
      expect(result.response).toEqual({ status, body: null })
    })
  }

  for (const status of [408, 425, 429, 500, 502, 503]) {
    it(`throws retriable when the downstream answers ${status}`, async () => {
      const ctx = httpContext({}, { downstream: [{ status, body: 'busy' }] })
      const error = await stepErrorOf(() => http.run(config, ctx))
      expect(error.category).toBe('retriable')
      expect(error.status).toBe(status)
      expect(error.retryAfterMs).toBeUndefined()
      expect(error.details).toEqual({ body: 'busy' })
    })
  }

  for (const status of [400, 401, 404, 409, 422]) {
    it(`throws non_retriable when the downstream answers ${status}`, async () => {
      const ctx = httpContext({}, { downstream: [{ status, body: '{"error":"no"}' }] })
      const error = await stepErrorOf(() => http.run(config, ctx))
      expect(error.category).toBe('non_retriable')
      expect(error.status).toBe(status)
      expect(error.message).toBe(`PUT https://crm.test/v1/reports/r%2042%2Fx?job=job-7 answered ${status}`)
    })
  }

  it('reads a Retry-After in seconds into retryAfterMs', async () => {
    const ctx = httpContext({}, { downstream: [{ status: 429, headers: { 'retry-after': '7' } }] })
    const error = await stepErrorOf(() => http.run(config, ctx))
    expect(error.retryAfterMs).toBe(7_000)
  })

  it('reads a Retry-After HTTP date into retryAfterMs', async () => {
    // The clock is the real one here: the HTTP-date reading is compared against the wall clock (see the report).
    const nowMs = Math.floor(Date.now() / 1000) * 1000
    const retryAfter = new Date(nowMs + 120_000).toUTCString()
    const ctx = httpContext(
      { now: () => nowMs },
      { downstream: [{ status: 503, headers: { 'retry-after': retryAfter } }] },
    )
    const error = await stepErrorOf(() => http.run(config, ctx))
    expect(error.retryAfterMs).toBeGreaterThan(110_000)
    expect(error.retryAfterMs).toBeLessThanOrEqual(120_000)
  })

  it('throws retriable when the network fails, with the reason', async () => {
    const ctx = httpContext({}, { downstream: [new Error('connect ECONNREFUSED 127.0.0.1:9')] })
    const error = await stepErrorOf(() => http.run(config, ctx))
    expect(error.category).toBe('retriable')
    expect(error.status).toBeUndefined()
    expect(error.message).toContain('ECONNREFUSED')
  })

  it('signs the outgoing body with the stripe scheme so that the receiver can verify it', async () => {
    const ctx = httpContext()
    await http.run({ ...config, sign: { scheme: 'stripe', secret: { ref: 'OUT_SECRET' } } }, ctx)
    const request = ctx.requests[0]
    const header = request?.headers['stripe-signature'] ?? ''
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)
    expect(match, header).not.toBeNull()
    const [, t, v1] = match as RegExpExecArray
    expect(Number(t)).toBe(NOW_SEC)
    const expected = createHmac('sha256', 'whsec_outboundSecretForTests0123')
      .update(`${t}.${request?.body}`)
      .digest('hex')
    expect(v1).toBe(expected)
  })

  it('signs into a custom header when one is configured', async () => {
    const ctx = httpContext()
    await http.run({ ...config, sign: { scheme: 'stripe', secret: { ref: 'OUT_SECRET' }, header: 'X-Signature' } }, ctx)
    expect(ctx.requests[0]?.headers['x-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
  })

  it('retries on the default schedule: immediately, 5 s, 30 s, 5 min, 30 min', () => {
    expect(http.retryDelaysMs?.(config)).toEqual([0, 5_000, 30_000, 300_000, 1_800_000])
    expect(DEFAULT_RETRY_DELAYS_MS).toEqual([0, 5_000, 30_000, 300_000, 1_800_000])
  })

  it('retries on the configured schedule when there is one', () => {
    expect(http.retryDelaysMs?.({ ...config, retry: { delaysMs: [0, 1_000] } })).toEqual([0, 1_000])
  })
})

describe('respond', () => {
  it('answers with the status and the payload by default', async () => {
    const result = await respond.run({ status: 201 }, fakeContext({ input: { ok: true } }))
    expect(result).toEqual({ port: null, answer: { status: 201, body: { ok: true } } })
  })

  it('answers with the body expression’s value', async () => {
    const ctx = fakeContext({ input: { id: 'evt_1', type: 'report.completed' } })
    const result = await respond.run({ status: 200, body: '{ "received": id, "at": $event.receivedAt }' }, ctx)
    expect(result.answer).toEqual({ status: 200, body: { received: 'evt_1', at: '2026-01-17T12:05:03.000Z' } })
  })

  it('answers null when the body expression gives nothing', async () => {
    const result = await respond.run({ status: 204, body: 'nothing.here' }, fakeContext({ input: {} }))
    expect(result.answer).toEqual({ status: 204, body: null })
  })
})
