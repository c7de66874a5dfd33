/**
 * End to end: the operations screens against a real runtime receiving real signed webhooks — the live event
 * list with filters, rejected deliveries explained, an event's lineage, dead letters, replay, the monitor.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { chromiumPresent, EDITOR_DIST, ensureEditorBuilt, launchChromium } from '../support/browser.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { readFixture, readFlow } from '../support/paths.ts'
import {
  ADMIN_TOKEN,
  startTestRuntime,
  stripeHeader,
  type TestRuntime,
  waitForEvent,
} from '../support/runtime-harness.ts'
import { openEditorPage, screenshot, screenshotIfFailed } from './editor-driver.ts'

const SECRET = 'whsec_events_e2e'
const FAILURES_PATH = '/jobs/cm5job123abc456/failures'

/** The example flow with one attempt per call, so a failing downstream gives a dead letter at once. */
function oneAttemptFlow(): FlowDocument {
  const flow = readFlow('conduit-reports') as FlowDocument
  return {
    ...flow,
    nodes: flow.nodes.map((n) => (n.kind === 'http' ? { ...n, config: { ...n.config, retry: { delaysMs: [0] } } } : n)),
  }
}

describe.runIf(chromiumPresent())('the operations screens in Chromium', () => {
  let rt: TestRuntime
  let downstream: DownstreamMock
  let browser: Browser
  let page: Page
  let pageErrors: string[]
  let completedId = ''
  let deadId = ''

  const send = (fixture: string, secret = SECRET) => {
    const body = readFixture(fixture)
    return rt.post('/hooks/conduit/reports', body, { 'conduit-signature': stripeHeader(secret, body) })
  }

  beforeAll(async () => {
    ensureEditorBuilt()
    downstream = await startDownstreamMock()
    downstream.script(FAILURES_PATH, [{ status: 500, body: { error: 'down' } }])
    rt = await startTestRuntime({
      flows: [oneAttemptFlow()],
      secrets: { CONDUIT_WEBHOOK_SECRET: [SECRET], CRM_API_KEY: ['crm-key'] },
      vars: { CRM_BASE_URL: downstream.url },
      runtime: { editorDir: EDITOR_DIST },
    })
    browser = await launchChromium()
    const opened = await openEditorPage(browser)
    page = opened.page
    pageErrors = opened.errors
  })

  afterEach((context) => screenshotIfFailed(page, context))

  afterAll(async () => {
    await browser?.close()
    await rt?.stop()
    await downstream?.stop()
  })

  it('shows an empty list, then new deliveries live as they arrive', async () => {
    await page.goto(`${rt.url}/events?token=${ADMIN_TOKEN}`)
    await page.getByText('No events yet').waitFor()
    await page.locator('[data-testid="live"]', { hasText: 'live' }).waitFor()
    const answer = await send('conduit/report.completed.json')
    expect(answer.status).toBe(202)
    completedId = answer.body.eventId
    // No reload: the stream brings the row, then its completion.
    await page.locator(`tr[data-event="${completedId}"] [data-status="completed"]`).waitFor()
  })

  it('lists a refused delivery with what the signature explainer found', async () => {
    const answer = await send('conduit/report.completed.json', 'whsec_not_the_secret')
    expect(answer.status).toBe(401)
    const row = page.locator('.rejection-row').first()
    await row.getByText('401 invalid_signature').waitFor()
    await row.locator('.findings code', { hasText: 'no_match' }).waitFor()
    await screenshot(page, 'events')
  })

  it('filters by status, with the filter in the address', async () => {
    await page.selectOption('select[name="status"]', 'rejected')
    await page.waitForURL((url) => url.pathname === '/events' && url.searchParams.get('status') === 'rejected')
    await page.locator(`tr[data-event="${completedId}"]`).waitFor({ state: 'detached' })
    expect(await page.locator('tbody tr[data-event] [data-status="rejected"]').count()).toBe(1)
    await page.selectOption('select[name="status"]', '')
    await page.locator(`tr[data-event="${completedId}"]`).waitFor()
  })

  it('shows an event’s payload and steps, and lights the input fields an output field came from', async () => {
    await page.locator(`tr[data-event="${completedId}"] a`).click()
    await page.waitForURL(`**/events/${completedId}`)
    await page.locator('.lineage-field[data-field="externalId"]').click()
    await page.locator('.json-tree [data-path="data.reportId"].jt-exact').waitFor()
    expect(await page.locator('.json-tree [data-path="data.jobId"].jt-exact').count()).toBe(0)
    await page.locator('[data-testid="lineage-note"]').getByText('data.reportId').waitFor()
    await page.locator('.lineage-field[data-field="completedAt"]').click()
    await page.locator('.json-tree [data-path="createdAt"].jt-exact').waitFor()
    await screenshot(page, 'event-detail')
  })

  it('lists a dead letter, previews its replay, then replays it for real with a reason', async () => {
    const answer = await send('conduit/report.failed.json')
    deadId = answer.body.eventId
    await waitForEvent(rt, deadId, ['dead'])
    await page.goto(`${rt.url}/dead-letters`)
    const table = page.locator('[data-testid="dead-letters"]')
    await table.getByText(deadId).waitFor()
    await table.getByText('retriable').waitFor()
    await screenshot(page, 'dead-letters')

    await table.getByRole('link', { name: deadId }).click()
    await page.waitForURL(`**/events/${deadId}`)
    const replay = page.getByRole('region', { name: 'Replay' })
    expect(await replay.getByRole('button', { name: /Replay for real/ }).isDisabled()).toBe(true)
    await replay.getByRole('button', { name: 'Preview' }).click()
    await page.locator('[data-testid="replay-preview"]').getByText('Would end').waitFor()
    downstream.script(FAILURES_PATH, [{ status: 200, body: { ok: true } }])
    await replay.locator('input[name="replay-reason"]').fill('CRM is back')
    await replay.getByRole('button', { name: /Replay for real/ }).click()
    await waitForEvent(rt, deadId, ['completed'])
    const audit = await rt.api('/api/audit')
    expect(JSON.stringify(audit)).toContain('CRM is back')
  })

  it('charts the recent figures on the monitor', async () => {
    await page.goto(`${rt.url}/monitor`)
    const fiveMinutes = page.locator('[data-window="5m"]')
    await fiveMinutes.getByText('received').waitFor()
    expect(Number(await fiveMinutes.locator('.figure-big dd').textContent())).toBeGreaterThanOrEqual(3)
    expect(await page.locator('.chart svg rect').count()).toBeGreaterThan(0)
    await screenshot(page, 'monitor')
  })

  it('logs no errors in the browser console', () => {
    // The refused delivery and the dead letter are answers the test asked for, not page errors.
    expect(pageErrors).toEqual([])
  })
})
