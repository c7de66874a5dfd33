/** A 200-node flow on the canvas: how long until it is drawn, and that it still pans and saves. */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkFlow } from '../../runtime/model/graph-checks.ts'
import type { FlowDocument, FlowEdge, FlowNode } from '../../runtime/model/types.ts'
import { nodeKinds } from '../../runtime/nodes/index.ts'
import { chromiumPresent, EDITOR_DIST, ensureEditorBuilt, launchChromium } from '../support/browser.ts'
import { ADMIN_TOKEN, startTestRuntime, type TestRuntime } from '../support/runtime-harness.ts'
import { collectPageErrors, screenshot, VIEWPORT } from './editor-driver.ts'

const NODE_COUNT = 200
/** Generous bounds for a shared CI machine; the measured figures are printed. */
const FIRST_RENDER_BUDGET_MS = 5_000
const SAVE_BUDGET_MS = 3_000

/** verify → dedupe → 66 × (branch → transform → http, the branch's `otherwise` leading to the next branch). */
export function largeFlow(id: string): FlowDocument {
  const nodes: FlowNode[] = [
    {
      id: 'verify',
      kind: 'verify',
      config: { scheme: 'bearer', secret: { ref: 'BIG_SECRET' } },
      position: { x: 0, y: 0 },
    },
    { id: 'dedupe', kind: 'dedupe', config: { key: 'id' }, position: { x: 260, y: 0 } },
  ]
  const edges: FlowEdge[] = [{ from: 'verify', port: 'ok', to: 'dedupe' }]
  let previous = { id: 'dedupe', port: 'new' }
  for (let i = 0; nodes.length < NODE_COUNT; i++) {
    const x = 520 + (i % 11) * 260
    const y = Math.floor(i / 11) * 520
    const branch = `route-${i}`
    nodes.push(
      { id: branch, kind: 'branch', config: { cases: [{ port: 'go', when: `type = "t${i}"` }] }, position: { x, y } },
      {
        id: `map-${i}`,
        kind: 'transform',
        config: { expression: `{ "n": ${i}, "id": id }` },
        position: { x, y: y + 170 },
      },
      {
        id: `call-${i}`,
        kind: 'http',
        config: { method: 'POST', url: `https://api.example.com/t/${i}` },
        position: { x, y: y + 340 },
      },
    )
    edges.push(
      { from: previous.id, port: previous.port, to: branch },
      { from: branch, port: 'go', to: `map-${i}` },
      { from: `map-${i}`, port: 'ok', to: `call-${i}` },
    )
    previous = { id: branch, port: 'otherwise' }
  }
  return { schemaVersion: 1, id, version: 1, name: 'Two hundred nodes', trigger: { path: 'big' }, nodes, edges }
}

describe.runIf(chromiumPresent())('a 200-node flow in Chromium', () => {
  let rt: TestRuntime
  let browser: Browser
  let page: Page
  let pageErrors: string[]

  beforeAll(async () => {
    ensureEditorBuilt()
    const flow = largeFlow('big-flow')
    expect(flow.nodes).toHaveLength(NODE_COUNT)
    expect(checkFlow(flow, { kinds: nodeKinds })).toEqual([])
    rt = await startTestRuntime({ flows: [flow], runtime: { editorDir: EDITOR_DIST } })
    browser = await launchChromium()
    page = await browser.newPage({ viewport: VIEWPORT })
    pageErrors = collectPageErrors(page)
    // Sign in once, so the measured load is the canvas alone.
    await page.goto(`${rt.url}/flows?token=${ADMIN_TOKEN}`)
    await page.getByRole('heading', { name: 'Flows' }).waitFor()
  })

  afterAll(async () => {
    await browser?.close()
    await rt?.stop()
  })

  it('draws every node soon after the address is opened', async () => {
    await page.goto(`${rt.url}/flows/big-flow`)
    // Milliseconds since navigation start when all 200 nodes are in the page and measured (visible).
    const handle = await page.waitForFunction(
      (count) => {
        const nodes = document.querySelectorAll<HTMLElement>('.react-flow__node')
        if (nodes.length !== count) return false
        for (const node of nodes) if (node.style.visibility === 'hidden') return false
        return performance.now()
      },
      NODE_COUNT,
      { timeout: 20_000 },
    )
    const firstRenderMs = Math.round((await handle.jsonValue()) as number)
    console.log(`200-node flow: first render ${firstRenderMs} ms after navigation start`)
    expect(firstRenderMs).toBeLessThan(FIRST_RENDER_BUDGET_MS)
    await screenshot(page, 'large-flow')
  })

  it('pans with a mouse drag on the empty canvas', async () => {
    const viewport = page.locator('.react-flow__viewport')
    const before = await viewport.getAttribute('style')
    // Somewhere the pane itself is under the mouse, not a node.
    const spot = await page.evaluate(() => {
      const pane = document.querySelector('.react-flow')?.getBoundingClientRect()
      if (!pane) return undefined
      for (let y = pane.top + 40; y < pane.bottom - 40; y += 20) {
        for (let x = pane.left + 40; x < pane.right - 200; x += 20) {
          if (document.elementFromPoint(x, y)?.classList.contains('react-flow__pane')) return { x, y }
        }
      }
      return undefined
    })
    if (!spot) throw new Error('no empty spot on the canvas')
    // Frames the page paints while panning, counted in the page itself.
    await page.evaluate(() => {
      const w = window as unknown as { frames_: number; counting_: boolean }
      w.frames_ = 0
      w.counting_ = true
      const tick = () => {
        w.frames_++
        if (w.counting_) requestAnimationFrame(tick)
      }
      requestAnimationFrame(tick)
    })
    const started = Date.now()
    await page.mouse.move(spot.x, spot.y)
    await page.mouse.down()
    await page.mouse.move(spot.x + 150, spot.y + 120, { steps: 30 })
    await page.mouse.up()
    const panMs = Date.now() - started
    const frames = await page.evaluate(() => {
      const w = window as unknown as { frames_: number; counting_: boolean }
      w.counting_ = false
      return w.frames_
    })
    const after = await viewport.getAttribute('style')
    console.log(
      `200-node flow: a 30-step pan took ${panMs} ms, ${frames} frames painted (${Math.round((frames * 1000) / panMs)} fps)`,
    )
    expect(after).not.toBe(before)
  })

  it('saves it as a new version', async () => {
    await page.locator('.react-flow__node[data-id="dedupe"] .node-title').click({ force: true })
    await page.fill('input[name="node-name"]', 'Once per id')
    const started = Date.now()
    await page.getByRole('button', { name: 'Save' }).click()
    await page.locator('[data-testid="version-chip"]', { hasText: 'v2' }).waitFor()
    const saveMs = Date.now() - started
    console.log(`200-node flow: save took ${saveMs} ms`)
    expect(saveMs).toBeLessThan(SAVE_BUDGET_MS)
    const saved = await rt.api('/api/flows/big-flow')
    expect(saved.nodes).toHaveLength(NODE_COUNT)
    expect(saved.nodes.find((n: FlowNode) => n.id === 'dedupe').name).toBe('Once per id')
    expect(pageErrors).toEqual([])
  })
})
