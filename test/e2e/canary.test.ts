/**
 * Canary deploys and reconciliation in Chromium: the deploy dialog starts a canary, the canvas shows its
 * banner and the monitor the figures per version, Promote ends it; an event whose downstream never answers
 * shows in the events screen's Unreconciled section, and an operator resumes it with a reason.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { AMOUNT_SCHEMA, bearerFlow } from '../support/bearer-flow.ts'
import { chromiumPresent, EDITOR_DIST, ensureEditorBuilt, launchChromium } from '../support/browser.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { startTestRuntime, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'
import { collectPageErrors, screenshot, VIEWPORT } from './editor-driver.ts'

const SHOP_TOKEN = 'e2e-canary-shop-token'
/** A downstream answer that never comes within the test. */
const NEVER_MS = 60_000

function ordersFlow(version: number, label: string): FlowDocument {
  const flow = bearerFlow({
    id: 'orders',
    version,
    name: 'Shop orders',
    path: 'shop/orders',
    tokenRef: 'SHOP_TOKEN',
    schema: AMOUNT_SCHEMA,
    expression: `{"orderId": id, "total": amount, "label": "${label}"}`,
    method: 'POST',
    url: '{{$vars.SHOP_URL}}/orders/{{orderId}}',
    delaysMs: [0],
  })
  const deliver = flow.nodes.find((node) => node.id === 'deliver')
  if (deliver) deliver.config.timeoutMs = 2 * NEVER_MS
  return flow
}

describe.runIf(chromiumPresent())('canary deploys and reconciliation in the editor', () => {
  let rt: TestRuntime
  let mock: DownstreamMock
  let browser: Browser
  let operator: string

  const send = (id: string) =>
    rt.post('/hooks/shop/orders', JSON.stringify({ id, amount: 5 }), { authorization: `Bearer ${SHOP_TOKEN}` })

  beforeAll(async () => {
    ensureEditorBuilt()
    mock = await startDownstreamMock()
    mock.script('/orders/stuck', [
      { status: 200, delayMs: NEVER_MS },
      { status: 200, body: { ok: true } },
    ])
    rt = await startTestRuntime({
      flows: [ordersFlow(1, 'stable')],
      secrets: { SHOP_TOKEN: [SHOP_TOKEN] },
      vars: { SHOP_URL: mock.url },
      runtime: { editorDir: EDITOR_DIST, reconcileAfterMs: 200 },
    })
    expect((await rt.call('PUT', '/flows/orders', ordersFlow(2, 'candidate'))).status).toBe(201)
    operator = (await rt.call('POST', '/tokens', { role: 'operator', name: 'e2e canary' })).body.token
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await mock?.stop()
    await rt?.stop()
  })

  it('starts a canary from the deploy dialog, shows its banner and figures, then promotes it', async () => {
    const page = await browser.newPage({ viewport: VIEWPORT })
    const errors = collectPageErrors(page)
    await page.goto(`${rt.url}/flows/orders?token=${operator}`)
    await page.locator('.react-flow__node[data-id="map"]').waitFor()
    expect(await page.locator('[data-testid="canary-banner"]').count()).toBe(0)
    await page.getByRole('button', { name: 'Deploy v2' }).click()

    const dialog = page.getByRole('dialog', { name: 'Deploy v2 of orders' })
    await dialog.waitFor()
    await dialog.getByRole('checkbox', { name: 'Deploy as a canary' }).check()
    await dialog.locator('input[name="canary-percent"]').fill('25')
    await dialog.getByRole('button', { name: 'Start canary: v2 on 25 %' }).click()

    const banner = page.locator('[data-testid="canary-banner"]')
    await banner.waitFor()
    expect(await dialog.count()).toBe(0)
    expect((await banner.textContent())?.replace(/\s+/g, ' ')).toContain('v2 takes 25 % of new events; v1 the rest.')
    await page.locator('[data-testid="deployed-chip"]', { hasText: 'deployed v1' }).waitFor()
    expect((await rt.call('GET', '/flows')).body).toContainEqual(
      expect.objectContaining({ id: 'orders', deployedVersion: 1, canary: { version: 2, percent: 25 } }),
    )
    await screenshot(page, 'canary-banner')

    // Events on both versions, then the monitor's figures per version.
    for (let i = 0; i < 40; i++) expect((await send(`e2e-${i}`)).status).toBe(202)
    await banner.getByRole('link', { name: 'Figures by version' }).click()
    const figures = page.locator('[data-testid="version-figures"]')
    await figures.waitFor()
    expect(await figures.locator('h2').textContent()).toBe('Canary: v2 takes 25 % of new events, v1 the rest')
    const received = async (version: number) =>
      Number(await figures.locator(`tr[data-version="${version}"][data-window="5m"] td`).nth(2).textContent())
    expect((await received(1)) + (await received(2))).toBe(40)
    expect(await received(2)).toBeGreaterThan(0)
    await screenshot(page, 'canary-monitor')

    await page.goBack()
    await banner.waitFor()
    await banner.locator('input[name="canary-reason"]').fill('candidate looks right')
    await banner.getByRole('button', { name: 'Promote v2' }).click()
    await page.locator('[data-testid="deployed-chip"]', { hasText: 'deployed v2' }).waitFor()
    await banner.waitFor({ state: 'detached' })
    const flows = (await rt.call('GET', '/flows')).body
    expect(flows).toContainEqual(expect.objectContaining({ id: 'orders', deployedVersion: 2, canary: null }))
    const audit = (await rt.call('GET', '/audit?limit=10')).body.items
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'canary.promote', actor: 'e2e canary', reason: 'candidate looks right' }),
    )
    expect(errors).toEqual([])
    await page.close()
  })

  it('lists a stuck event under Unreconciled and resumes it with a reason', async () => {
    const stuck = await send('stuck')
    expect(stuck.status).toBe(202)
    await mock.waitFor(1, 15_000, '/orders/stuck')
    await new Promise((resolve) => setTimeout(resolve, 300))
    const page = await browser.newPage({ viewport: VIEWPORT })
    const errors = collectPageErrors(page)
    await page.goto(`${rt.url}/events?token=${operator}`)
    const section = page.locator('[data-testid="unreconciled"]')
    await section.waitFor()
    const row = section.locator(`tr[data-unreconciled="${stuck.body.eventId}"]`)
    expect(await row.textContent()).toContain('leased')
    await row.getByRole('button', { name: 'Resume' }).click()
    await section.locator('input[name="reconcile-reason"]').fill('downstream hung, INC-42')
    await screenshot(page, 'unreconciled-section')
    await section.getByRole('button', { name: `Resume ${stuck.body.eventId}` }).click()
    await section.waitFor({ state: 'detached' })
    expect((await waitForEvent(rt, stuck.body.eventId)).status).toBe('completed')
    const audit = (await rt.call('GET', '/audit?limit=10')).body.items
    expect(audit).toContainEqual(
      expect.objectContaining({
        action: 'reconcile.resume',
        target: `event:${stuck.body.eventId}`,
        reason: 'downstream hung, INC-42',
      }),
    )
    expect(errors).toEqual([])
    await page.close()
  })
})
