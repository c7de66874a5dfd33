/**
 * `mapper fuzz` as CI runs it: the real CLI in a child process against a real runtime serving both example
 * flows, at least 500 variants each; no 5xx, every 422 names a field path, the workers keep up.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FuzzReport } from '../../runtime/fuzz/fuzz-report.ts'
import { MAX_BODY_NESTING } from '../../runtime/server/hooks.ts'
import { REPO_ROOT, SCHEMAS_DIR } from '../support/paths.ts'
import { ADMIN_TOKEN, startTestRuntime, stripeHeader, type TestRuntime } from '../support/runtime-harness.ts'

const run = promisify(execFile)
const CONDUIT_SECRET = 'whsec_fuzz_conduit'
const VIDEO_TOKEN = 'fuzz-video-token'
/** Per family: with nine families (two of them small) this makes more than 500 variants per flow. */
const COUNT = 70

describe('mapper fuzz against both example flows', () => {
  let rt: TestRuntime

  beforeAll(async () => {
    rt = await startTestRuntime({
      flows: ['conduit-reports', 'video-generation'],
      secrets: {
        CONDUIT_WEBHOOK_SECRET: [CONDUIT_SECRET],
        VIDEO_WEBHOOK_TOKEN: [VIDEO_TOKEN],
        CRM_API_KEY: ['k'],
        APP_API_TOKEN: ['a'],
      },
      // The fuzz sends with the test marker: http nodes describe their request and call nothing.
      vars: { CRM_BASE_URL: 'http://127.0.0.1:9', APP_BASE_URL: 'http://127.0.0.1:9' },
    })
  })
  afterAll(async () => {
    await rt?.stop()
  })

  async function fuzz(flow: string): Promise<{ code: number; report: FuzzReport; stderr: string }> {
    const args = [join(REPO_ROOT, 'bin/mapper.js'), 'fuzz', '--flow', flow, '--server', rt.url, '--token', ADMIN_TOKEN]
    args.push('--schemas', SCHEMAS_DIR, '--count', String(COUNT), '--seed', 'ci', '--json')
    const env = { ...process.env, CONDUIT_WEBHOOK_SECRET: CONDUIT_SECRET, VIDEO_WEBHOOK_TOKEN: VIDEO_TOKEN }
    try {
      const { stdout, stderr } = await run(process.execPath, args, { cwd: REPO_ROOT, env, maxBuffer: 64 << 20 })
      return { code: 0, report: JSON.parse(stdout) as FuzzReport, stderr }
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string }
      if (!failed.stdout) throw new Error(`mapper fuzz failed: ${failed.stderr}`)
      return { code: failed.code, report: JSON.parse(failed.stdout) as FuzzReport, stderr: failed.stderr }
    }
  }

  function expectClean(report: FuzzReport): void {
    expect(report.sent).toBeGreaterThanOrEqual(500)
    expect(report.outcomes.filter((o) => o.status === undefined || o.status >= 500)).toEqual([])
    const rejects = report.outcomes.filter((o) => o.status === 422)
    expect(rejects.length).toBeGreaterThan(50)
    for (const o of rejects) expect(o.paths?.length, o.description).toBeGreaterThan(0)
    expect(report.failures).toBe(0)
    expect(report.healthy).toBe(true)
    expect(report.families.map((f) => f.family)).toHaveLength(9)
  }

  async function queueDepth(): Promise<number> {
    const text = await (await fetch(`${rt.url}/metrics`)).text()
    return Number(/^mapper_queue_depth (\d+)/m.exec(text)?.[1])
  }

  it('sends 500+ variants to conduit-reports: no 5xx, every 422 names a field path, exit 0', async () => {
    const { code, report } = await fuzz('conduit-reports')
    expectClean(report)
    expect(code).toBe(0)
    expect(report.ok).toBe(true)
  }, 60_000)

  it('sends 500+ variants to video-generation: no 5xx, every 422 names a field path, exit 0', async () => {
    const { code, report } = await fuzz('video-generation')
    expectClean(report)
    expect(code).toBe(0)
  }, 60_000)

  it('leaves the workers running and the production figures untouched', async () => {
    await expect.poll(queueDepth, { timeout: 20_000, interval: 200 }).toBe(0)
    const summary = await rt.api('/api/metrics/summary')
    expect(summary.windows[0].received).toBe(0)
    const tested = await rt.api('/api/events?test=true&limit=5')
    expect(tested.items.length).toBeGreaterThan(0)
  })

  it('answers 400 to a signed body nested deeper than the limit (it once answered 500 and stalled the workers)', async () => {
    const body = `{"id":"evt_deep","type":"report.completed","createdAt":"2026-01-17T12:05:00.000Z","data":{"jobId":"j","reportId":"r","status":"completed"},"nested":${'['.repeat(5_000)}${']'.repeat(5_000)}}`
    const answer = await rt.post('/hooks/conduit/reports', body, {
      'conduit-signature': stripeHeader(CONDUIT_SECRET, body),
    })
    expect(answer.status).toBe(400)
    expect(answer.body.error.message).toContain(`deeper than ${MAX_BODY_NESTING} levels`)
  })

  it('answers 404 to a webhook address with a malformed escape, and keeps running (it once ended the process)', async () => {
    const answer = await fetch(`${rt.url}/hooks/%E0%A4%A`, { method: 'POST', body: '{}' })
    expect(answer.status).toBe(404)
    expect((await fetch(`${rt.url}/healthz`)).status).toBe(200)
  })

  it('answers 400 to a truncated UTF-8 sequence that decodes to a replacement character of the same length', async () => {
    const body = Buffer.concat([
      Buffer.from(
        '{"id":"evt_utf8","type":"report.completed","createdAt":"2026-01-17T12:05:00.000Z","data":{"jobId":"',
      ),
      Buffer.from([0xf0, 0x9f, 0x98]),
      Buffer.from('","reportId":"r","status":"completed"}}'),
    ])
    const signed = body.toString('utf8')
    const answer = await fetch(`${rt.url}/hooks/conduit/reports`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'conduit-signature': stripeHeader(CONDUIT_SECRET, signed) },
    })
    expect(answer.status).toBe(400)
    expect(((await answer.json()) as { error: { message: string } }).error.message).toBe('the body is not UTF-8')
  })
})
