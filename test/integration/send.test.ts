/**
 * `mapper send` against a real local receiver that checks signatures on its own (node:crypto and the
 * official standardwebhooks library), dedupes by event id and answers 202 / 200 duplicate / 401.
 */
import { execFile } from 'node:child_process'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runSend } from '../../runtime/cli/send.ts'
import { FIXTURES_DIR, FLOWS_DIR, REPO_ROOT } from '../support/paths.ts'

const STRIPE_SECRET = 'whsec_conduit_test_secret'
const BEARER_TOKEN = 'video-token-123'
const SW_SECRET = `whsec_${Buffer.from('standard webhooks test key 32 b!').toString('base64')}`
const HMAC_SECRET = 'hmac-secret'
const TOLERANCE_SEC = 300

interface Received {
  path: string
  headers: IncomingMessage['headers']
  body: string
  status: number
}

type Verdict = { ok: true; key: string } | { ok: false }

function stripeVerify(headers: IncomingMessage['headers'], body: string): Verdict {
  const header = String(headers['conduit-signature'] ?? '')
  const items = header.split(',').map((item) => item.split('=') as [string, string])
  const t = items.find(([k]) => k === 't')?.[1]
  const v1 = items.filter(([k]) => k === 'v1').map(([, v]) => v)
  if (t === undefined || Math.abs(Date.now() / 1000 - Number(t)) > TOLERANCE_SEC) return { ok: false }
  const expected = createHmac('sha256', STRIPE_SECRET).update(`${t}.${body}`).digest()
  const ok = v1.some((hex) => {
    const claimed = Buffer.from(hex, 'hex')
    return claimed.length === expected.length && timingSafeEqual(claimed, expected)
  })
  return ok ? { ok: true, key: (JSON.parse(body) as { id: string }).id } : { ok: false }
}

function bearerVerify(headers: IncomingMessage['headers'], body: string): Verdict {
  if (headers.authorization !== `Bearer ${BEARER_TOKEN}`) return { ok: false }
  const event = JSON.parse(body) as { task_id: string; status: string; progress_percentage?: number }
  return { ok: true, key: `${event.task_id}:${event.status}:${event.progress_percentage ?? ''}` }
}

function standardWebhooksVerify(headers: IncomingMessage['headers'], body: string): Verdict {
  try {
    const event = new Webhook(SW_SECRET).verify(body, headers as Record<string, string>) as { id: string }
    return { ok: true, key: event.id }
  } catch {
    return { ok: false }
  }
}

function hmacVerify(headers: IncomingMessage['headers'], body: string): Verdict {
  const expected = `sha256=${createHmac('sha256', HMAC_SECRET).update(body).digest('base64')}`
  if (headers['x-signature'] !== expected) return { ok: false }
  return { ok: true, key: (JSON.parse(body) as { id: string }).id }
}

const verifiers: Record<string, (headers: IncomingMessage['headers'], body: string) => Verdict> = {
  '/hooks/conduit/reports': stripeVerify,
  '/hooks/video': bearerVerify,
  '/hooks/sw': standardWebhooksVerify,
  '/hooks/hmac': hmacVerify,
}

let server: Server
let base: string
const received: Received[] = []
const firstEvent = new Map<string, string>()
/** The webhook-id each standard-webhooks event first came with. */
const messageIds = new Map<string, string>()

function answer(path: string, headers: IncomingMessage['headers'], body: string): { status: number; json: unknown } {
  const verify = verifiers[path]
  if (!verify) return { status: 404, json: { error: { code: 'not_found' } } }
  const verdict = verify(headers, body)
  if (!verdict.ok) return { status: 401, json: { error: { code: 'invalid_signature', message: 'bad signature' } } }
  const key = `${path}|${verdict.key}`
  const first = firstEvent.get(key)
  if (first) return { status: 200, json: { duplicate: true, eventId: first } }
  const eventId = `ev_${firstEvent.size + 1}`
  firstEvent.set(key, eventId)
  if (headers['webhook-id']) messageIds.set(verdict.key, String(headers['webhook-id']))
  return { status: 202, json: { eventId } }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const path = req.url ?? ''
      const { status, json } = answer(path, req.headers, body)
      received.push({ path, headers: req.headers, body, status })
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(json))
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((done) => server.close(done))
})

beforeEach(() => {
  received.length = 0
})

const conduit = () => ({ url: `${base}/hooks/conduit/reports`, scheme: 'stripe' as const, header: 'conduit-signature' })

describe('mapper send', () => {
  it('re-sends a share of events as byte-identical duplicates, answered 200', async () => {
    const report = await runSend({
      ...conduit(),
      secret: STRIPE_SECRET,
      generate: 'conduit',
      count: 100,
      duplicates: 0.1,
    })
    expect(report.sent).toBe(100)
    expect(report.duplicatesSent).toBe(10)
    expect(report.byStatus).toEqual({ '202': 90, '200': 10 })
    expect(report.eventIds).toHaveLength(90)
    expect(new Set(report.eventIds).size).toBe(90)
    expect(report.ok).toBe(true)
    // Every duplicate body equals an earlier accepted body, byte for byte, under a fresh signature.
    const accepted = new Set(received.filter((r) => r.status === 202).map((r) => r.body))
    for (const dup of received.filter((r) => r.status === 200)) expect(accepted.has(dup.body)).toBe(true)
    const types = new Set(received.map((r) => (JSON.parse(r.body) as { type: string }).type))
    expect([...types].sort()).toEqual(['matching.completed', 'matching.failed', 'report.completed', 'report.failed'])
  })

  it('tampered bodies are answered 401, and those 401s count as expected', async () => {
    const report = await runSend({ ...conduit(), secret: STRIPE_SECRET, generate: 'conduit', count: 50, tamper: 0.2 })
    expect(report.tamperedSent).toBe(10)
    expect(report.byStatus).toEqual({ '202': 40, '401': 10 })
    expect(report.byCode).toEqual({ invalid_signature: 10 })
    expect(report.ok).toBe(true)
    for (const r of received.filter((x) => x.status === 401))
      expect(JSON.parse(r.body)).toHaveProperty('tampered', true)
  })

  it('a clock skew beyond the tolerance is rejected; within it, accepted', async () => {
    const late = await runSend({ ...conduit(), secret: STRIPE_SECRET, generate: 'conduit', count: 20, skew: 600 })
    expect(late.byStatus).toEqual({ '401': 20 })
    expect(late.ok).toBe(true)
    const early = await runSend({ ...conduit(), secret: STRIPE_SECRET, generate: 'conduit', count: 5, skew: -600 })
    expect(early.byStatus).toEqual({ '401': 5 })
    const near = await runSend({ ...conduit(), secret: STRIPE_SECRET, generate: 'conduit', count: 5, skew: 60 })
    expect(near.byStatus).toEqual({ '202': 5 })
  })

  it('unexpected answers make the run fail, and --expect overrides what is expected', async () => {
    const wrong = await runSend({ ...conduit(), secret: 'not-the-secret', generate: 'conduit', count: 3 })
    expect(wrong.byStatus).toEqual({ '401': 3 })
    expect(wrong.unexpected).toBe(3)
    expect(wrong.ok).toBe(false)
    const asked = await runSend({
      ...conduit(),
      secret: 'not-the-secret',
      generate: 'conduit',
      count: 3,
      expect: ['401'],
    })
    expect(asked.ok).toBe(true)
  })

  it('signs bearer deliveries of the video fixtures, ids rewritten when count exceeds the files', async () => {
    const dir = resolve(FIXTURES_DIR, 'video')
    const report = await runSend({ url: `${base}/hooks/video`, scheme: 'bearer', secret: BEARER_TOKEN, dir, count: 12 })
    expect(report.byStatus).toEqual({ '202': 12 })
    const taskIds = new Set(received.map((r) => (JSON.parse(r.body) as { task_id: string }).task_id))
    expect(taskIds.size).toBe(12)
    const generated = await runSend({
      url: `${base}/hooks/video`,
      scheme: 'bearer',
      secret: BEARER_TOKEN,
      generate: 'video',
      count: 8,
    })
    expect(generated.byStatus).toEqual({ '202': 8 })
  })

  it('signs standard-webhooks deliveries that the official library verifies; re-sends keep their webhook-id', async () => {
    const report = await runSend({
      url: `${base}/hooks/sw`,
      scheme: 'standard-webhooks',
      secret: SW_SECRET,
      generate: 'conduit',
      count: 40,
      duplicates: 0.25,
    })
    expect(report.byStatus).toEqual({ '202': 30, '200': 10 })
    for (const r of received) {
      const id = (JSON.parse(r.body) as { id: string }).id
      expect(r.headers['webhook-id']).toBe(messageIds.get(id))
    }
  })

  it('signs hmac deliveries with algorithm, encoding and prefix', async () => {
    const report = await runSend({
      url: `${base}/hooks/hmac`,
      scheme: 'hmac',
      header: 'x-signature',
      secret: HMAC_SECRET,
      encoding: 'base64',
      prefix: 'sha256=',
      generate: 'conduit',
      count: 4,
    })
    expect(report.byStatus).toEqual({ '202': 4 })
  })

  it('takes the path, scheme, header and secret name from a flow document', async () => {
    const report = await runSend({
      flow: resolve(FLOWS_DIR, 'conduit-reports.flow.json'),
      server: base,
      env: { CONDUIT_WEBHOOK_SECRET: STRIPE_SECRET },
      files: [resolve(FIXTURES_DIR, 'conduit/report.completed.json')],
      testMarker: true,
      headers: { 'x-trace': 'abc' },
    })
    expect(report.url).toBe(`${base}/hooks/conduit/reports`)
    expect(report.sent).toBe(1)
    const [only] = received
    // Sent byte-exact: one payload, count 1, so the id is left alone.
    expect(only?.body).toBe(readFileSync(resolve(FIXTURES_DIR, 'conduit/report.completed.json'), 'utf8'))
    expect(only?.headers['x-mapper-test']).toBe('1')
    expect(only?.headers['x-trace']).toBe('abc')
    await expect(
      runSend({ flow: resolve(FLOWS_DIR, 'conduit-reports.flow.json'), server: base, env: {}, generate: 'conduit' }),
    ).rejects.toThrow(/CONDUIT_WEBHOOK_SECRET/)
  })

  it('paces deliveries to --rate', async () => {
    const report = await runSend({ ...conduit(), secret: STRIPE_SECRET, generate: 'conduit', count: 11, rate: 50 })
    expect(report.byStatus).toEqual({ '202': 11 })
    // The 11th delivery is due 10 / 50 s = 200 ms after the first.
    expect(report.durationMs).toBeGreaterThanOrEqual(190)
    expect(report.rate).toBeLessThanOrEqual(60)
  })

  it('reports network failures as unexpected', async () => {
    const report = await runSend({ url: 'http://127.0.0.1:9/hooks/x', generate: 'conduit', count: 2, timeoutMs: 2000 })
    expect(report.networkErrors).toBe(2)
    expect(report.ok).toBe(false)
    expect(Object.keys(report.byCode)).toHaveLength(1)
  })

  it('the real CLI prints the JSON report and exits 0, or 1 on unexpected answers', async () => {
    const run = promisify(execFile)
    const args = [
      'bin/mapper.js',
      'send',
      '--url',
      `${base}/hooks/conduit/reports`,
      '--scheme',
      'stripe',
      '--header',
      'conduit-signature',
      '--secret',
      STRIPE_SECRET,
      '--generate',
      'conduit',
      '--count',
      '20',
      '--duplicates',
      '0.1',
      '--json',
    ]
    const { stdout } = await run('node', args, { cwd: REPO_ROOT })
    const report = JSON.parse(stdout)
    expect(Object.keys(report).sort()).toEqual(
      [
        'byCode',
        'byStatus',
        'duplicatesSent',
        'durationMs',
        'eventIds',
        'latencyMs',
        'networkErrors',
        'ok',
        'rate',
        'sent',
        'tamperedSent',
        'unexpected',
        'url',
      ].sort(),
    )
    expect(report).toMatchObject({ sent: 20, duplicatesSent: 2, byStatus: { '202': 18, '200': 2 }, byCode: {} })
    expect(Object.keys(report.latencyMs).sort()).toEqual(['max', 'p50', 'p90', 'p99'])
    expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p99)
    expect(report.eventIds).toHaveLength(18)
    const failing = run('node', [...args.slice(0, -1), '--expect', '202'], { cwd: REPO_ROOT })
    await expect(failing).rejects.toMatchObject({ code: 1 })
  })
})
