/**
 * End to end: the transform mapping editor — CodeMirror, a live preview run by jsonata in the browser, and the
 * visual mapper whose lines come from the expression's lineage and whose drags write the expression.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { chromiumPresent, EDITOR_DIST, ensureEditorBuilt, launchChromium } from '../support/browser.ts'
import { ADMIN_TOKEN, startTestRuntime, type TestRuntime } from '../support/runtime-harness.ts'
import { drag, openEditorPage, screenshot, screenshotIfFailed, selectNode } from './editor-driver.ts'

describe.runIf(chromiumPresent())('the mapping editor in Chromium', () => {
  let rt: TestRuntime
  let browser: Browser
  let page: Page
  let pageErrors: string[]

  // innerText, not textContent: CodeMirror draws each line as its own element, and the newlines matter here.
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text with its line breaks is what is wanted
  const expression = () => page.locator('.cm-content').innerText()
  const line = (input: string, output: string) => page.locator(`[data-line="${input}->${output}"]`)
  async function centreOf(selector: string) {
    const box = await page.locator(selector).boundingBox()
    if (!box) throw new Error(`${selector} is not visible`)
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 }
  }

  beforeAll(async () => {
    ensureEditorBuilt()
    rt = await startTestRuntime({ flows: ['conduit-reports'], runtime: { editorDir: EDITOR_DIST } })
    browser = await launchChromium()
    const opened = await openEditorPage(browser)
    page = opened.page
    pageErrors = opened.errors
  })

  afterEach((context) => screenshotIfFailed(page, context))

  afterAll(async () => {
    await browser?.close()
    await rt?.stop()
  })

  it('opens on a transform node with lines drawn from the lineage and a preview of the sample', async () => {
    await page.goto(`${rt.url}/flows/conduit-reports?token=${ADMIN_TOKEN}`)
    await page.locator('.react-flow__node[data-id="map-report"]').waitFor()
    await selectNode(page, 'map-report')
    await page.getByRole('button', { name: 'Open mapping editor' }).click()
    await line('data.reportId', 'externalId').waitFor({ state: 'attached' })
    await line('createdAt', 'completedAt').waitFor({ state: 'attached' })
    await line('$event.id', 'eventId').waitFor({ state: 'attached' })
    await page.locator('[data-testid="mapping-preview"]').getByText('"externalId": "cm5report789xyz"').waitFor()
    // JSONata is highlighted: names, strings and $functions get their own colours.
    expect(await page.locator('.cm-content span').count()).toBeGreaterThan(10)
  })

  it('writes "out": in.path when an input field is dropped on an output field', async () => {
    await drag(
      page,
      await centreOf('[data-input-path="data.jobId"]'),
      await centreOf('[data-output-path="externalId"]'),
    )
    await line('data.jobId', 'externalId').waitFor({ state: 'attached' })
    await line('data.reportId', 'externalId').waitFor({ state: 'detached' })
    expect(await expression()).toContain('"externalId": data.jobId')
    await page.locator('[data-testid="mapping-preview"]').getByText('"externalId": "cm5job123abc456"').waitFor()
  })

  it('adds a new output field when an input field is dropped on the new-field row', async () => {
    await drag(page, await centreOf('[data-input-path="type"]'), await centreOf('[data-new-field]'))
    await line('type', 'type').waitFor({ state: 'attached' })
    expect(await expression()).toMatch(/"type": type\n\}$/)
    await screenshot(page, 'mapping-editor')
  })

  it('redraws the lines when the expression is edited', async () => {
    await page.locator('.cm-content').click()
    await page.keyboard.press('Control+a')
    await page.keyboard.type('{ "ref": data.reportId, "kind": type }')
    await line('data.reportId', 'ref').waitFor({ state: 'attached' })
    await line('type', 'kind').waitFor({ state: 'attached' })
    expect(await page.locator('[data-output-path]').count()).toBe(2)
    await page.keyboard.type(' +')
    await page.locator('[data-testid="parse-error"]').waitFor()
    await page.keyboard.press('Backspace')
    await page.keyboard.press('Backspace')
    await page.locator('[data-testid="parse-error"]').waitFor({ state: 'detached' })
    await page.getByRole('button', { name: 'Done' }).click()
    expect(await page.inputValue('#config-map-report_expression')).toBe('{ "ref": data.reportId, "kind": type }')
    await page.locator('[data-testid="save-state"]', { hasText: 'unsaved changes' }).waitFor()
  })

  it('logs no errors in the browser console', () => {
    expect(pageErrors).toEqual([])
  })
})
