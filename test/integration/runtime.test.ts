import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { readFixture, readFlow } from '../support/paths.ts'
import { readLog, startTestRuntime, stripeHeader, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'

const CONDUIT_SECRET = 'whsec_integration_conduit_secret'
const VIDEO_TOKEN = 'video-token-for-integration'
const SECRETS = {
  CONDUIT_WEBHOOK_SECRET: [CONDUIT_SECRET],
  CRM_API_KEY: ['crm-key'],
  VIDEO_WEBHOOK_TOKEN: [VIDEO_TOKEN],
  APP_API_TOKEN: ['Bearer app-token'],
}

/** The conduit flow at another path, with short retry delays and tight limits, for the error rows. */
function fastConduit(): FlowDocument {
  const doc = structuredClone(readFlow('conduit-reports')) as FlowDocument
  doc.id = 'conduit-fast'
  doc.trigger = { path: 'conduit/fast', maxBodyBytes: 4096, rateLimit: { perSecond: 1000, burst: 1000 } }
  for (const node of doc.nodes) if (node.kind === 'http') node.config.retry = { delaysMs: [0, 50, 50] }
  return doc
}

function limitedFlow(): FlowDocument {
  const doc = structuredClone(readFlow('conduit-reports')) as FlowDocument
  doc.id = 'conduit-limited'
  doc.trigger = { path: 'conduit/limited', rateLimit: { perSecond: 1, burst: 2 } }
  return doc
}

function withId(fixture: string, id: string): string {
  return JSON.stringify({ ...JSON.parse(readFixture(fixture)), id })
}

describe('the runtime over real HTTP and a real SQLite file', () => {
  let rt: TestRuntime
  let mock: DownstreamMock

  beforeAll(async () => {
    mock = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: ['conduit-reports', 'video-generation', fastConduit(), limitedFlow()],
      secrets: SECRETS,
      vars: { CRM_BASE_URL: mock.url, APP_BASE_URL: mock.url },
    })
  })
  afterAll(async () => {
    await rt?.stop()
    await mock?.stop()
  })

  const sendConduit = (body: string, path = 'conduit/reports', secret = CONDUIT_SECRET) =>
    rt.post(`/hooks/${path}`, body, { 'conduit-signature': stripeHeader(secret, body) })

  describe('both example flows end to end on every fixture', () => {
    const conduit: Array<[string, string, string]> = [
      ['conduit/report.completed.json', 'PUT', '/reports/cm5report789xyz'],
      ['conduit/report.failed.json', 'POST', '/jobs/cm5job123abc456/failures'],
      ['conduit/matching.completed.json', 'PATCH', '/jobs/cm5job555match01'],
      ['conduit/matching.failed.json', 'PATCH', '/jobs/cm5job555match01'],
    ]
    for (const [fixture, method, path] of conduit) {
      it(`delivers ${fixture} to ${method} ${path} and completes the event`, async () => {
        const body = readFixture(fixture)
        const answer = await sendConduit(body)
        expect(answer.status).toBe(202)
        expect(answer.body.eventId).toMatch(/^evt_/)
        const event = await waitForEvent(rt, answer.body.eventId)
        expect(event.status).toBe('completed')
        expect(event.rawBody).toBe(body)
        expect(event.headers['conduit-signature']).not.toContain('v1=')
        const call = mock.requests.find(
          (r) => r.headers['idempotency-key'] === `${answer.body.eventId}:${event.steps.at(-1).node}`,
        )
        expect(call?.method).toBe(method)
        expect(call?.path).toBe(path)
        expect(call?.headers['x-api-key']).toBe('crm-key')
      })
    }
    const video: Array<[string, string, string]> = [
      ['video/completed.json', 'PUT', '/videos/550e8400-e29b-41d4-a716-446655440000'],
      ['video/failed.json', 'PUT', '/videos/550e8400-e29b-41d4-a716-446655440000'],
      ['video/cancelled.json', 'PUT', '/videos/550e8400-e29b-41d4-a716-446655440000'],
      ['video/progress.json', 'POST', '/videos/550e8400-e29b-41d4-a716-446655440000/progress'],
    ]
    for (const [fixture, method, path] of video) {
      it(`delivers ${fixture} to ${method} ${path}`, async () => {
        const body = readFixture(fixture)
        const answer = await rt.post('/hooks/video/generation', body, { authorization: `Bearer ${VIDEO_TOKEN}` })
        expect(answer.status).toBe(202)
        const event = await waitForEvent(rt, answer.body.eventId)
        expect(event.status).toBe('completed')
        const last = event.steps.at(-1)
        expect(last.request).toMatchObject({ method, url: `${mock.url}${path}` })
        expect(last.response.status).toBe(200)
        expect(event.headers.authorization).toBe('[masked]')
      })
    }
  })

  it('answers 50 concurrent deliveries of one event with one 202, 49 duplicates and one downstream call', async () => {
    const body = withId('conduit/report.completed.json', 'evt_concurrent_50')
    const answers = await Promise.all(Array.from({ length: 50 }, () => sendConduit(body)))
    const accepted = answers.filter((a) => a.status === 202)
    const duplicates = answers.filter((a) => a.status === 200)
    expect(accepted).toHaveLength(1)
    expect(duplicates).toHaveLength(49)
    const first = accepted[0]?.body.eventId
    for (const duplicate of duplicates) expect(duplicate.body).toEqual({ duplicate: true, eventId: first })
    await waitForEvent(rt, first)
    await new Promise((r) => setTimeout(r, 200))
    expect(mock.requests.filter((r) => r.headers['idempotency-key'] === `${first}:crm-report`)).toHaveLength(1)
  })

  it('delivers on the third attempt when the downstream answers 503, 503, 200, and records each attempt', async () => {
    mock.script('/reports/rep-retry', [
      { status: 503 },
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 200, body: { ok: 1 } },
    ])
    const body = JSON.stringify({
      id: 'evt_retry_1',
      type: 'report.completed',
      createdAt: '2026-01-17T12:05:00.000Z',
      data: { jobId: 'job-r', reportId: 'rep-retry', status: 'completed' },
    })
    const answer = await sendConduit(body, 'conduit/fast')
    expect(answer.status).toBe(202)
    const event = await waitForEvent(rt, answer.body.eventId)
    expect(event.status).toBe('completed')
    const attempts = event.steps.filter((s: { node: string }) => s.node === 'crm-report')
    expect(attempts.map((s: { attempt: number }) => s.attempt)).toEqual([1, 2, 3])
    expect(attempts.map((s: { error?: { category: string } }) => s.error?.category ?? 'ok')).toEqual([
      'retriable',
      'retriable',
      'ok',
    ])
    expect(mock.requests.filter((r) => r.path === '/reports/rep-retry')).toHaveLength(3)
    const keys = new Set(
      mock.requests.filter((r) => r.path === '/reports/rep-retry').map((r) => r.headers['idempotency-key']),
    )
    expect(keys.size).toBe(1)
  })

  it('moves the event to the dead letters when the downstream answers 400, without retrying', async () => {
    mock.script('/reports/rep-bad', [{ status: 400, body: { error: 'bad' } }])
    const body = JSON.stringify({
      id: 'evt_dead_1',
      type: 'report.completed',
      createdAt: '2026-01-17T12:05:00.000Z',
      data: { jobId: 'job-d', reportId: 'rep-bad', status: 'completed' },
    })
    const answer = await sendConduit(body, 'conduit/fast')
    const event = await waitForEvent(rt, answer.body.eventId)
    expect(event.status).toBe('dead')
    expect(event.deadLetters).toHaveLength(1)
    expect(event.deadLetters[0]).toMatchObject({
      node: 'crm-report',
      error: { category: 'non_retriable', status: 400 },
    })
    expect(mock.requests.filter((r) => r.path === '/reports/rep-bad')).toHaveLength(1)
    const list = await rt.api('/api/dead-letters?flow=conduit-fast')
    expect(list.items.map((d: { eventId: string }) => d.eventId)).toContain(answer.body.eventId)
  })

  describe('answers every row of the SPEC §4 table', () => {
    it('202 with the event id after the commit', async () => {
      const answer = await sendConduit(withId('conduit/report.completed.json', 'evt_row_202'))
      expect(answer.status).toBe(202)
      expect(Object.keys(answer.body)).toEqual(['eventId'])
      expect(answer.headers.get('x-request-id')).toMatch(/^req_/)
    })

    it('200 duplicate naming the first event', async () => {
      const body = withId('conduit/report.completed.json', 'evt_row_dup')
      const first = await sendConduit(body)
      const second = await sendConduit(body)
      expect(second.status).toBe(200)
      expect(second.body).toEqual({ duplicate: true, eventId: first.body.eventId })
    })

    it('401 invalid_signature for a wrong, missing or stale signature, recording what the explainer found', async () => {
      const body = withId('conduit/report.completed.json', 'evt_row_401')
      const wrong = await sendConduit(body, 'conduit/reports', 'whsec_not_the_secret')
      expect(wrong.status).toBe(401)
      expect(wrong.body.error.code).toBe('invalid_signature')
      expect(JSON.stringify(wrong.body)).not.toContain('whsec_')
      const missing = await rt.post('/hooks/conduit/reports', body)
      expect(missing.status).toBe(401)
      const stale = await rt.post('/hooks/conduit/reports', body, {
        'conduit-signature': stripeHeader(CONDUIT_SECRET, body, Math.floor(Date.now() / 1000) - 3600),
      })
      expect(stale.status).toBe(401)
      // Refusals are recorded without holding up the answer: look until the record is there.
      let staleItem: { id: string } | undefined
      for (let tries = 0; !staleItem && tries < 50; tries++) {
        const rejected = await rt.api('/api/events?status=rejected&flow=conduit-reports&limit=50')
        staleItem = rejected.items.find((e: { requestId: string }) => e.requestId === stale.headers.get('x-request-id'))
        if (!staleItem) await new Promise((r) => setTimeout(r, 20))
      }
      if (!staleItem) throw new Error('the stale delivery was not recorded')
      const staleRecord = await rt.api(`/api/events/${staleItem.id}`)
      expect(staleRecord.rawBody).toBeNull()
      expect(staleRecord.rejection.diagnosis.findings.map((f: { cause: string }) => f.cause)).toContain('clock_skew')
      expect(Math.round(staleRecord.rejection.diagnosis.clockOffsetSec / 60)).toBe(-60)
    })

    it('422 schema_reject with details naming the field path', async () => {
      const body = JSON.stringify({
        id: 'evt_row_422',
        type: 'report.completed',
        createdAt: '2026-01-17T12:05:00.000Z',
        data: { jobId: 'j' },
      })
      const answer = await sendConduit(body)
      expect(answer.status).toBe(422)
      expect(answer.body.error.code).toBe('schema_reject')
      expect(answer.body.error.details).toEqual(
        expect.arrayContaining([
          { path: '/data/reportId', rule: 'required', message: 'is required but missing' },
          { path: '/data/status', rule: 'required', message: 'is required but missing' },
        ]),
      )
    })

    it('413 for a body over maxBodyBytes', async () => {
      const body = JSON.stringify({ id: 'evt_big', padding: 'x'.repeat(5000) })
      const answer = await sendConduit(body, 'conduit/fast')
      expect(answer.status).toBe(413)
    })

    it('400 malformed_json for a signed body that is not JSON', async () => {
      const answer = await sendConduit('{"id": "evt_broken", ')
      expect(answer.status).toBe(400)
      expect(answer.body.error.code).toBe('malformed_json')
    })

    it('429 with Retry-After over the flow rate limit', async () => {
      const statuses: number[] = []
      let retryAfter: string | null = null
      for (let i = 0; i < 5; i++) {
        const answer = await sendConduit(withId('conduit/report.completed.json', `evt_rate_${i}`), 'conduit/limited')
        statuses.push(answer.status)
        if (answer.status === 429) retryAfter = answer.headers.get('retry-after')
      }
      expect(statuses.slice(0, 2)).toEqual([202, 202])
      expect(statuses).toContain(429)
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
    })

    it('404 for a path no flow serves', async () => {
      const answer = await rt.post('/hooks/nothing/here', '{}')
      expect(answer.status).toBe(404)
    })
  })

  it('logs each answer as JSON with request id, event id, flow id and version', async () => {
    const answer = await sendConduit(withId('conduit/report.completed.json', 'evt_logged'))
    await waitForEvent(rt, answer.body.eventId)
    const lines = readLog(rt)
    const line = lines.find((l) => l.eventId === answer.body.eventId && l.msg === 'webhook answered')
    expect(line).toMatchObject({
      flowId: 'conduit-reports',
      status: 202,
      requestId: answer.headers.get('x-request-id'),
    })
    expect(typeof line?.flowVersion).toBe('number')
    const work = lines.filter((l) => l.eventId === answer.body.eventId && l.msg === 'work done')
    expect(work.map((l) => l.node)).toEqual(['map-report'])
    expect(JSON.stringify(lines)).not.toContain(CONDUIT_SECRET)
  })

  it('exposes Prometheus metrics for received webhooks, ack latency, dedupe hits, schema rejects and the queue', async () => {
    const text = await (await fetch(`${rt.url}/metrics`)).text()
    expect(text).toMatch(
      /mapper_webhooks_received_total\{flow="conduit-reports",outcome="accepted",status="202",version="\d+"\} \d+/,
    )
    expect(text).toContain('mapper_ack_latency_seconds_bucket')
    expect(text).toMatch(/mapper_dedupe_hits_total\{flow="conduit-reports"\} [1-9]/)
    expect(text).toMatch(/mapper_schema_rejects_total\{flow="conduit-reports"\} [1-9]/)
    expect(text).toMatch(/mapper_queue_depth \d+/)
    expect(text).toMatch(/mapper_dead_letters [1-9]/)
    expect(text).toContain('mapper_processing_latency_seconds_bucket')
    expect(text).toMatch(/mapper_retries_total\{flow="conduit-fast",node="crm-report"\} 2/)
  })

  it('reports live and ready', async () => {
    expect((await fetch(`${rt.url}/healthz`)).status).toBe(200)
    expect((await fetch(`${rt.url}/readyz`)).status).toBe(200)
  })
})

describe('backpressure', () => {
  it('answers 503 with Retry-After once the queue is over its high-water mark', async () => {
    const rt = await startTestRuntime({
      flows: ['conduit-reports'],
      secrets: SECRETS,
      runtime: { queueHighWater: 2, workers: false },
    })
    try {
      const statuses: number[] = []
      let retryAfter: string | null = null
      for (let i = 0; i < 4; i++) {
        const body = withId('conduit/report.completed.json', `evt_bp_${i}`)
        const answer = await rt.post('/hooks/conduit/reports', body, {
          'conduit-signature': stripeHeader(CONDUIT_SECRET, body),
        })
        statuses.push(answer.status)
        if (answer.status === 503) retryAfter = answer.headers.get('retry-after')
      }
      expect(statuses).toEqual([202, 202, 503, 503])
      expect(Number(retryAfter)).toBeGreaterThan(0)
    } finally {
      await rt.stop()
    }
  })
})
