/** What each role is offered in the editor: what a role may not do is not on the screen. */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumPresent, EDITOR_DIST, ensureEditorBuilt, launchChromium } from '../support/browser.ts'
import { ADMIN_TOKEN, startTestRuntime, type TestRuntime } from '../support/runtime-harness.ts'
import { collectPageErrors, screenshot, VIEWPORT } from './editor-driver.ts'

describe.runIf(chromiumPresent())('roles in the editor', () => {
  let rt: TestRuntime
  let browser: Browser
  const tokens: Record<string, string> = {}

  beforeAll(async () => {
    ensureEditorBuilt()
    rt = await startTestRuntime({ flows: ['conduit-reports'], runtime: { editorDir: EDITOR_DIST } })
    for (const role of ['viewer', 'editor', 'operator']) {
      const response = await fetch(`${rt.url}/api/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role, name: `e2e ${role}` }),
      })
      tokens[role] = ((await response.json()) as { token: string }).token
    }
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await rt?.stop()
  })

  async function canvasAs(role: string) {
    const page = await browser.newPage({ viewport: VIEWPORT })
    const errors = collectPageErrors(page)
    await page.goto(`${rt.url}/flows/conduit-reports?token=${tokens[role]}`)
    await page.locator('.react-flow__node[data-id="verify"]').waitFor()
    expect(await page.textContent('[data-testid="role"]')).toBe(role)
    return { page, errors }
  }

  it('offers a viewer no save, no test run and no palette', async () => {
    const { page, errors } = await canvasAs('viewer')
    expect(await page.getByRole('button', { name: 'Save' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: /^Deploy/ }).count()).toBe(0)
    expect(await page.locator('.palette').count()).toBe(0)
    expect(await page.getByRole('tab', { name: 'Test run' }).count()).toBe(0)
    await page.locator('[data-id="verify"] .node-title').click()
    expect(await page.locator('input[name="node-name"]').getAttribute('readonly')).not.toBeNull()
    await screenshot(page, 'role-viewer')
    expect(errors).toEqual([])
    await page.close()
  })

  it('offers an editor save and test runs but no deploy', async () => {
    const { page, errors } = await canvasAs('editor')
    await page.getByRole('button', { name: 'Save' }).waitFor()
    expect(await page.getByRole('button', { name: /^Deploy/ }).count()).toBe(0)
    await page.getByRole('tab', { name: 'Test run' }).click()
    expect(await page.getByRole('button', { name: 'Run test' }).isDisabled()).toBe(false)
    // An editor may not list secrets: the secret field is a plain name input.
    await page.getByRole('tab', { name: 'Inspect' }).click()
    await page.locator('[data-id="verify"] .node-title').click()
    await page.getByText('Your role cannot list the secrets').waitFor()
    expect(errors).toEqual([])
    await page.close()
  })

  it('offers an operator deploy', async () => {
    const { page, errors } = await canvasAs('operator')
    await page.getByRole('button', { name: /^Deploy/ }).waitFor()
    expect(errors).toEqual([])
    await page.close()
  })

  it('signs in through the form and out again; a bad token is refused with a message', async () => {
    const page = await browser.newPage({ viewport: VIEWPORT })
    await page.goto(`${rt.url}/monitor`)
    await page.fill('input[name="token"]', 'not-a-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page
      .getByRole('alert')
      .getByText(/not valid/)
      .waitFor()
    await screenshot(page, 'sign-in')
    await page.fill('input[name="token"]', tokens.viewer as string)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('[data-testid="role"]', { hasText: 'viewer' }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/monitor')
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.locator('input[name="token"]').waitFor()
    expect(await page.evaluate(() => sessionStorage.getItem('mapper.token'))).toBeNull()
    await page.close()
  })
})
