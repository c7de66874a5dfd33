/**
 * The deploy dialog in Chromium: with v1 deployed and a v2 that maps the report's status in lower case and no
 * longer matches report.failed, the impact preview shows the changed field and the changed path; then Deploy.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumPresent, EDITOR_DIST, ensureEditorBuilt, launchChromium } from '../support/browser.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { readFixture, readFlow } from '../support/paths.ts'
import { startTestRuntime, stripeHeader, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'
import { collectPageErrors, screenshot, VIEWPORT } from './editor-driver.ts'

const SECRET = 'whsec_e2e_deploy_impact'

type Flow = { version: number; nodes: Array<{ id: string; config: Record<string, any> }> }

function candidate(): Flow {
  const flow = readFlow('conduit-reports') as Flow
  flow.version = 2
  const map = flow.nodes.find((n) => n.id === 'map-report') as Flow['nodes'][number]
  map.config.expression = String(map.config.expression).replace('$uppercase(data.status)', '$lowercase(data.status)')
  const branch = flow.nodes.find((n) => n.id === 'by-type') as Flow['nodes'][number]
  branch.config.cases[1].when = 'type = "report.failed" and data.error.code = "never"'
  return flow
}

describe.runIf(chromiumPresent())('the deploy dialog’s impact preview', () => {
  let rt: TestRuntime
  let crm: DownstreamMock
  let browser: Browser
  let operator: string

  beforeAll(async () => {
    ensureEditorBuilt()
    crm = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: ['conduit-reports'],
      secrets: { CONDUIT_WEBHOOK_SECRET: [SECRET], CRM_API_KEY: ['crm-key'] },
      vars: { CRM_BASE_URL: crm.url },
      runtime: { editorDir: EDITOR_DIST },
    })
    for (const [fixture, id] of [
      ['report.completed', 'evt_e2e_impact_1'],
      ['report.failed', 'evt_e2e_impact_2'],
      ['report.completed', 'evt_e2e_impact_3'],
    ] as const) {
      const body = readFixture(`conduit/${fixture}.json`).replace(/"id": "[^"]+"/, `"id": "${id}"`)
      const answer = await rt.post('/hooks/conduit/reports', body, { 'conduit-signature': stripeHeader(SECRET, body) })
      expect(answer.status).toBe(202)
      await waitForEvent(rt, answer.body.eventId)
    }
    expect((await rt.call('PUT', '/flows/conduit-reports', candidate())).status).toBe(201)
    operator = (await rt.call('POST', '/tokens', { role: 'operator', name: 'e2e deploy' })).body.token
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await rt?.stop()
    await crm?.stop()
  })

  it('runs the preview in the deploy dialog, shows the changed field and path, then deploys', async () => {
    const page = await browser.newPage({ viewport: VIEWPORT })
    const errors = collectPageErrors(page)
    await page.goto(`${rt.url}/flows/conduit-reports?token=${operator}`)
    await page.locator('.react-flow__node[data-id="map-report"]').waitFor()
    await page.getByRole('button', { name: 'Deploy v2' }).click()

    const dialog = page.getByRole('dialog', { name: 'Deploy v2 of conduit-reports' })
    await dialog.waitFor()
    await dialog.locator('input[name="impact-events"]').fill('10')
    await dialog.getByRole('button', { name: 'Run preview' }).click()
    await dialog.locator('[data-testid="impact-result"]').waitFor()

    const totals = await dialog.locator('[data-testid="impact-totals"]').textContent()
    expect(totals).toContain('3 events compared')
    expect(totals).toContain('3 changed')
    const changedFields = await dialog.locator('[data-testid="impact-changed-field"]').allTextContents()
    expect(changedFields.map((t) => t.replace(/\s+/g, ' ').trim())).toEqual([
      'crm-report $.request.body.status in 2 events',
      'map-report $.status in 2 events',
    ])
    const fieldRow = dialog.locator('[data-testid="impact-field"]', { hasText: 'map-report' }).first()
    expect((await fieldRow.textContent())?.replace(/\s+/g, ' ')).toContain('$.status"COMPLETED""completed"')
    const pathChange = await dialog.locator('[data-testid="impact-path-change"]').textContent()
    expect(pathChange).toContain('by-type:report-failed')
    expect(pathChange).toContain('by-type:otherwise')
    await screenshot(page, 'deploy-impact-preview')
    expect(crm.requests).toHaveLength(3)

    await dialog.getByRole('button', { name: 'Deploy v2' }).click()
    await page.locator('[data-testid="deployed-chip"]', { hasText: 'deployed v2' }).waitFor()
    expect(await dialog.count()).toBe(0)
    const flows = (await rt.call('GET', '/flows')).body as Array<{ id: string; deployedVersion: number }>
    expect(flows.find((f) => f.id === 'conduit-reports')?.deployedVersion).toBe(2)
    expect(errors).toEqual([])
    await page.close()
  })
})
