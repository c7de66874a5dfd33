/**
 * A run longer than the lease: the worker renews the lease while the http node waits, so the item is not
 * leased again (by this process or another) and the downstream is called once.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { readFixture } from '../support/paths.ts'
import { readLog, startTestRuntime, stripeHeader, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'

const SECRET = 'whsec_lease_renewal_secret'
const LEASE_MS = 1_000
const DOWNSTREAM_DELAY_MS = 3_500

describe('work that runs longer than its lease', () => {
  let rt: TestRuntime | undefined
  let mock: DownstreamMock | undefined
  afterAll(async () => {
    await rt?.stop()
    await mock?.stop()
  })

  it('keeps its lease while the downstream answers slowly, so the downstream is called once', async () => {
    mock = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: ['conduit-reports'],
      secrets: { CONDUIT_WEBHOOK_SECRET: [SECRET], CRM_API_KEY: ['crm-key'] },
      vars: { CRM_BASE_URL: mock.url },
      runtime: { leaseMs: LEASE_MS },
    })
    const body = readFixture('conduit/report.completed.json')
    const path = `/reports/${JSON.parse(body).data.reportId}`
    mock.script(path, [{ status: 200, body: {}, delayMs: DOWNSTREAM_DELAY_MS }])

    const answer = await rt.post('/hooks/conduit/reports', body, { 'conduit-signature': stripeHeader(SECRET, body) })
    expect(answer.status).toBe(202)
    const event = await waitForEvent(rt, answer.body.eventId)

    expect(event.status).toBe('completed')
    expect(mock.requests.filter((request) => request.path === path)).toHaveLength(1)
    expect(readLog(rt).filter((line) => String(line.msg).startsWith('lease lost'))).toEqual([])
  }, 30_000)
})
