/**
 * The test namespace: a delivery with `x-mapper-test` runs the flow with its http nodes not called, is
 * stored flagged `test`, and leaves the production figures (/metrics and /api/metrics/summary) alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { readFixture } from '../support/paths.ts'
import { startTestRuntime, stripeHeader, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'

const SECRET = 'whsec_test_marker'

describe('deliveries with the test marker', () => {
  let rt: TestRuntime
  let crm: DownstreamMock

  beforeAll(async () => {
    crm = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: ['conduit-reports'],
      secrets: { CONDUIT_WEBHOOK_SECRET: [SECRET], CRM_API_KEY: ['crm-key'] },
      vars: { CRM_BASE_URL: crm.url },
    })
  })
  afterAll(async () => {
    await rt?.stop()
    await crm?.stop()
  })

  function delivery(id: string): { body: string; headers: Record<string, string> } {
    const body = readFixture('conduit/report.completed.json').replace('evt_abc123', id)
    return { body, headers: { 'conduit-signature': stripeHeader(SECRET, body) } }
  }

  async function received(): Promise<{ prometheus: number; summary: number; completed: number; rejects: number }> {
    const text = await (await fetch(`${rt.url}/metrics`)).text()
    const sum = (pattern: RegExp) =>
      text
        .split('\n')
        .filter((line) => pattern.test(line))
        .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0)
    const summary = await rt.api('/api/metrics/summary?flow=conduit-reports')
    return {
      prometheus: sum(/^mapper_webhooks_received_total\{[^}]*flow="conduit-reports"/),
      summary: summary.windows[0].received,
      completed: summary.windows[0].completed,
      rejects: sum(/^mapper_schema_rejects_total\{[^}]*flow="conduit-reports"/),
    }
  }

  it('runs the flow without calling its http nodes, flags the event and leaves the figures alone', async () => {
    const before = await received()
    const { body, headers } = delivery('evt_marked_1')
    const answer = await rt.post('/hooks/conduit/reports', body, { ...headers, 'x-mapper-test': '1' })
    expect(answer.status).toBe(202)
    const event = await waitForEvent(rt, answer.body.eventId)
    expect(event.status).toBe('completed')
    expect(event.test).toBe(true)
    const http = event.steps.find((step: { node: string }) => step.node === 'crm-report')
    expect(http.request.url).toBe(`${crm.url}/reports/cm5report789xyz`)
    expect(http.output).toBeNull()
    const rejected = await rt.post('/hooks/conduit/reports', '{"id": "evt_marked_2"}', {
      ...delivery('x').headers,
      'conduit-signature': stripeHeader(SECRET, '{"id": "evt_marked_2"}'),
      'x-mapper-test': '1',
    })
    expect(rejected.status).toBe(422)
    expect(crm.requests).toHaveLength(0)
    expect(await received()).toEqual(before)
  })

  it('counts a real delivery and calls the downstream, as a control', async () => {
    const before = await received()
    const { body, headers } = delivery('evt_real_1')
    const answer = await rt.post('/hooks/conduit/reports', body, headers)
    expect(answer.status).toBe(202)
    const event = await waitForEvent(rt, answer.body.eventId)
    expect(event.test).toBe(false)
    await crm.waitFor(1)
    const after = await received()
    expect(after.prometheus).toBe(before.prometheus + 1)
    expect(after.summary).toBe(before.summary + 1)
    await expect.poll(async () => (await received()).completed).toBe(before.completed + 1)
  })
})
