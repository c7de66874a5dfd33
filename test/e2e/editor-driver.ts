/** @module Drives the editor in Chromium the way a person does: real mouse drags from the palette and between ports. */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Locator, Page } from 'playwright-core'
import { REPO_ROOT } from '../support/paths.ts'

export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts')
export const VIEWPORT = { width: 1280, height: 800 }

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  const path = join(ARTIFACTS_DIR, `${name}.png`)
  await page.screenshot({ path })
  return path
}

/**
 * Where a visible element's centre is, once it stays put for two reads (a canvas may still be settling). Never
 * scrolls: scrolling the canvas' box would shift the whole flow.
 */
async function centre(locator: Locator): Promise<{ x: number; y: number }> {
  await locator.waitFor()
  let last: { x: number; y: number } | undefined
  let steady = 0
  for (let i = 0; i < 40; i++) {
    const box = await locator.boundingBox()
    if (!box) throw new Error(`${locator} is not visible`)
    const here = { x: box.x + box.width / 2, y: box.y + box.height / 2 }
    steady = last && Math.abs(last.x - here.x) < 0.5 && Math.abs(last.y - here.y) < 0.5 ? steady + 1 : 0
    if (steady >= 3) return here
    last = here
    await locator.page().waitForTimeout(50)
  }
  throw new Error(`${locator} keeps moving`)
}

/** Presses at `from`, moves in steps, releases at `to`: what a hand on a mouse does. */
export async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  await page.mouse.move(from.x, from.y)
  await page.mouse.down()
  await page.mouse.move(from.x + 8, from.y + 4, { steps: 2 })
  await page.mouse.move(to.x, to.y, { steps: 12 })
  await page.mouse.up()
}

/** Drags a kind from the palette onto the canvas at a point of the page; returns the new node's locator. */
export async function dropKind(page: Page, kind: string, at: { x: number; y: number }): Promise<void> {
  const before = await page.locator('.react-flow__node').count()
  await drag(page, await centre(page.locator(`.palette-item[data-kind="${kind}"]`)), at)
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__node').length === n + 1, before)
}

export function handle(page: Page, nodeId: string, port: string): Locator {
  return page.locator(`[data-id="${nodeId}"] [data-handleid="${port}"]`)
}

/** Draws an edge by dragging from a node's output port onto another node's input. */
export async function connect(page: Page, from: string, port: string, to: string): Promise<void> {
  const edges = await page.locator('.react-flow__edge').count()
  await drag(page, await centre(handle(page, from, port)), await centre(handle(page, to, 'in')))
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__edge').length === n + 1, edges, {
    timeout: 5_000,
  })
}

/** Selects a node by clicking its title. */
export async function selectNode(page: Page, nodeId: string): Promise<void> {
  await page.locator(`[data-id="${nodeId}"] .node-title`).click()
  await page
    .locator('[data-testid="inspector"] input[name="node-id"]')
    .and(page.locator(`[value="${nodeId}"]`))
    .waitFor()
}

export async function openTab(page: Page, name: 'Inspect' | 'Test run' | 'Issues'): Promise<void> {
  await page.getByRole('tab', { name: new RegExp(`^${name}`) }).click()
}

/** Console errors and uncaught exceptions of the page, so a test can insist there are none. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  page.on('pageerror', (error) => errors.push(error.message))
  return errors
}

/** A page the size of a laptop screen, waiting at most 10 s for anything, with its console errors collected. */
export async function openEditorPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: VIEWPORT })
  page.setDefaultTimeout(10_000)
  return { page, errors: collectPageErrors(page) }
}

/** For afterEach: a failed test leaves a screenshot of what the page showed then. */
export async function screenshotIfFailed(
  page: Page | undefined,
  context: { task: { name: string; result?: { state?: string } } },
): Promise<void> {
  if (page && context.task.result?.state === 'fail') await screenshot(page, `failed-${context.task.name.slice(0, 40)}`)
}
