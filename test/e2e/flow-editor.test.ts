/**
 * End to end in real Chromium against a real runtime serving the built editor: sign in, build a conduit-like
 * flow from an empty canvas with mouse drags, configure it in the inspector, map fields by dragging in the
 * field mapper, save, deploy, test-run a fixture, send it a signed webhook with `mapper send` and explain the
 * event's lineage. The tests of this file run in order on one flow, as one session of a person would.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { documentFromFile, flowFileText } from '../../runtime/files/flow-file-format.ts'
import { nodeKinds } from '../../runtime/nodes/index.ts'
import { chromiumPresent, EDITOR_DIST, ensureEditorBuilt, launchChromium } from '../support/browser.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { FIXTURES_DIR, FLOWS_DIR, REPO_ROOT } from '../support/paths.ts'
import { ADMIN_TOKEN, startTestRuntime, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'
import {
  connect,
  drag,
  dropKind,
  openEditorPage,
  openTab,
  screenshot,
  screenshotIfFailed,
  selectNode,
} from './editor-driver.ts'

const FLOW_ID = 'conduit-e2e'
const SECRET = 'whsec_e2e'

describe.runIf(chromiumPresent())('the flow editor in Chromium', () => {
  let rt: TestRuntime
  let downstream: DownstreamMock
  let browser: Browser
  let page: Page
  let pageErrors: string[]

  async function centreOf(selector: string) {
    const box = await page.locator(selector).boundingBox()
    if (!box) throw new Error(`${selector} is not visible`)
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 }
  }

  beforeAll(async () => {
    ensureEditorBuilt()
    downstream = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: ['conduit-reports'],
      secrets: { CONDUIT_WEBHOOK_SECRET: [SECRET], CRM_API_KEY: ['crm-key'] },
      vars: { CRM_BASE_URL: downstream.url },
      runtime: { editorDir: EDITOR_DIST },
    })
    // One secret set through the API: the verify node's secret field then offers it by name.
    const put = await fetch(`${rt.url}/api/secrets/CONDUIT_WEBHOOK_SECRET`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: SECRET }),
    })
    expect(put.status).toBe(200)
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

  it('signs in with ?token=, keeps the token for the session and removes it from the address bar', async () => {
    await page.goto(`${rt.url}/flows?token=${ADMIN_TOKEN}`)
    await page.getByRole('heading', { name: 'Flows' }).waitFor()
    expect(new URL(page.url()).search).toBe('')
    expect(await page.evaluate(() => sessionStorage.getItem('mapper.token'))).toBe(ADMIN_TOKEN)
    expect(await page.textContent('[data-testid="role"]')).toBe('admin')
    await page.locator('[data-testid="flow-table"]').getByText('Conduit report webhooks').waitFor()
    await screenshot(page, 'flows')
  })

  it('builds a flow on an empty canvas by dragging kinds from the palette', async () => {
    await page.getByRole('button', { name: 'New flow' }).click()
    await page.fill('input[name="flow-id"]', FLOW_ID)
    await page.fill('input[name="flow-name"]', 'Conduit reports (e2e)')
    await page.fill('input[name="flow-path"]', 'conduit/e2e')
    await page.getByRole('button', { name: 'Create and open' }).click()
    await page.waitForURL(`**/flows/${FLOW_ID}`)
    await page.locator('.canvas-empty').waitFor()
    expect(await page.locator('.react-flow__node').count()).toBe(0)

    // Two columns, three rows: the canvas runs from x≈170 to x≈920 at 1280×800.
    const spots = [
      ['verify', 330, 190],
      ['validate', 640, 190],
      ['dedupe', 330, 380],
      ['branch', 640, 380],
      ['transform', 330, 560],
      ['http', 640, 560],
    ] as const
    for (const [kind, x, y] of spots) await dropKind(page, kind, { x, y })
    for (const [kind] of spots) await page.locator(`.react-flow__node[data-id="${kind}"]`).waitFor()
    // A fresh node starts from its kind's defaults: dedupe keys on `id`.
    await selectNode(page, 'dedupe')
    expect(await page.inputValue('#config-dedupe_key')).toBe('id')
  })

  it('configures each node through its schema-generated form, with inline errors until it is right', async () => {
    await selectNode(page, 'verify')
    await page.fill('input[name="node-name"]', 'Check conduit-signature')
    await page.fill('#config-verify_header', 'conduit-signature')
    // The secret is picked by name from the runtime's secret store (an operator may list the names).
    // The kind's default name is not in the store, so it shows as "another name…" until one is picked.
    expect(await page.inputValue('#config-verify_secret')).toBe('WEBHOOK_SECRET')
    await page.selectOption('#config-verify_secret-pick', 'CONDUIT_WEBHOOK_SECRET')
    expect(await page.inputValue('select#config-verify_secret')).toBe('CONDUIT_WEBHOOK_SECRET')

    await selectNode(page, 'validate')
    await page.selectOption('#config-validate_schema__anyof_select', { label: 'Schema reference' })
    await page.fill('#config-validate_schema', 'conduit/event.v1')

    await selectNode(page, 'branch')
    await page.fill('#config-branch_cases_0_port', 'report-completed')
    await page.fill('#config-branch_cases_0_when', 'type = "report.completed"')
    await page.locator('[data-id="branch"] [data-handleid="report-completed"]').waitFor()

    await selectNode(page, 'transform')
    // An expression that does not parse is shown on the field and on the node, then fixed.
    await page.fill('#config-transform_expression', '{ "externalId": data.reportId, ')
    await page
      .locator('[data-testid="inspector"] .error-detail')
      .getByText(/JSONata/)
      .waitFor()
    await page.locator('[data-id="transform"] .flow-node.has-issues').waitFor()
    await page.fill(
      '#config-transform_expression',
      '{\n  "externalId": data.jobId,\n  "status": $uppercase(data.status)\n}',
    )
    await page.locator('[data-testid="inspector"] .error-detail').waitFor({ state: 'detached' })

    await selectNode(page, 'http')
    await page.selectOption('#config-http_method', 'PUT')
    await page.fill('#config-http_url', '{{$vars.CRM_BASE_URL}}/reports/{{externalId}}')
  })

  it('connects ports by dragging handle to handle, refusing an edge that would make a cycle', async () => {
    await connect(page, 'verify', 'ok', 'validate')
    await connect(page, 'validate', 'ok', 'dedupe')
    await connect(page, 'dedupe', 'new', 'branch')
    await connect(page, 'branch', 'report-completed', 'transform')
    await connect(page, 'transform', 'ok', 'http')
    expect(await page.locator('.react-flow__edge').count()).toBe(5)
    // http → verify would close a loop: the drop is refused and no edge appears.
    await expect(connect(page, 'http', 'ok', 'verify')).rejects.toThrow()
    expect(await page.locator('.react-flow__edge').count()).toBe(5)
    await page.getByRole('button', { name: 'Layout' }).click()
    await page.waitForTimeout(300)
    expect(await page.textContent('[data-testid="issue-count"]')).toBe('0')
    await screenshot(page, 'canvas-built')
  })

  it('maps two fields by dragging input fields onto output fields in the field mapper', async () => {
    await selectNode(page, 'transform')
    await page.getByRole('button', { name: 'Open mapping editor' }).click()
    const line = (input: string, output: string) => page.locator(`[data-line="${input}->${output}"]`)
    // The input fields come from the validate node's schema upstream; the typed expression took the wrong one.
    await line('data.jobId', 'externalId').waitFor({ state: 'attached' })
    await drag(
      page,
      await centreOf('[data-input-path="data.reportId"]'),
      await centreOf('[data-output-path="externalId"]'),
    )
    await line('data.reportId', 'externalId').waitFor({ state: 'attached' })
    await line('data.jobId', 'externalId').waitFor({ state: 'detached' })
    await drag(page, await centreOf('[data-input-path="data.jobId"]'), await centreOf('[data-new-field]'))
    await line('data.jobId', 'jobId').waitFor({ state: 'attached' })
    await screenshot(page, 'canvas-mapping')
    await page.getByRole('button', { name: 'Done' }).click()
    const expression = await page.inputValue('#config-transform_expression')
    expect(expression).toContain('"externalId": data.reportId')
    expect(expression).toContain('"jobId": data.jobId')
    expect(await page.textContent('[data-testid="issue-count"]')).toBe('0')
  })

  it('saves the flow as version 1 and deploys it', async () => {
    await page.getByRole('button', { name: 'Save' }).click()
    await page.locator('[data-testid="save-state"]', { hasText: /^saved$/ }).waitFor()
    expect(await page.textContent('[data-testid="version-chip"]')).toBe('v1')
    const saved = await rt.api(`/api/flows/${FLOW_ID}`)
    expect(saved.version).toBe(1)
    expect(saved.nodes.map((n: { id: string }) => n.id).sort()).toEqual(
      ['branch', 'dedupe', 'http', 'transform', 'validate', 'verify'].sort(),
    )
    expect(saved.edges).toContainEqual({ from: 'branch', port: 'report-completed', to: 'transform' })
    expect(saved.nodes.find((n: { id: string }) => n.id === 'verify').config).toMatchObject({
      header: 'conduit-signature',
      secret: { ref: 'CONDUIT_WEBHOOK_SECRET' },
    })

    await page.getByRole('button', { name: 'Deploy v1' }).click()
    await page.locator('[data-testid="deployed-chip"]', { hasText: 'deployed v1' }).waitFor()
    const flows = await rt.api('/api/flows')
    expect(flows.find((f: { id: string }) => f.id === FLOW_ID).deployedVersion).toBe(1)
  })

  it('test-runs a fixture and highlights the path taken, with per-node badges', async () => {
    await openTab(page, 'Test run')
    await page.selectOption('select[name="sample"]', 'conduit.report.completed')
    await page.getByRole('button', { name: 'Run test' }).click()
    await page.locator('[data-testid="run-outcome"]').waitFor()
    expect(await page.textContent('[data-testid="run-outcome"]')).toBe('completed')
    for (const id of ['validate', 'dedupe', 'branch', 'transform', 'http']) {
      await page.locator(`[data-id="${id}"] .flow-node.on-path .badge-ok`).waitFor()
    }
    // Without headers the signature is not checked: verify reports itself skipped.
    await page.locator('[data-id="verify"] .badge-skipped').waitFor()
    expect(await page.locator('.react-flow__edge.edge-taken').count()).toBe(5)
    await screenshot(page, 'canvas-test-run')

    // A click on a node shows what went in and what came out.
    await openTab(page, 'Inspect')
    await selectNode(page, 'transform')
    const stepView = page.locator('.step-view')
    await stepView.getByText('"externalId": "cm5report789xyz"').waitFor()
    await stepView.getByText('"STATUS"').or(stepView.getByText('"COMPLETED"')).first().waitFor()
    await screenshot(page, 'inspector-step')
  })

  it('takes a webhook signed by `mapper send`, and its event shows which input field each output came from', async () => {
    const run = promisify(execFile)
    const { stdout } = await run(process.execPath, [
      resolve(REPO_ROOT, 'bin/mapper.js'),
      'send',
      '--url',
      `${rt.url}/hooks/conduit/e2e`,
      '--scheme',
      'stripe',
      '--header',
      'conduit-signature',
      '--secret',
      SECRET,
      '--file',
      join(FIXTURES_DIR, 'conduit/report.completed.json'),
      '--json',
    ])
    const report = JSON.parse(stdout)
    expect(report.byStatus).toEqual({ '202': 1 })
    const [eventId] = report.eventIds
    await waitForEvent(rt, eventId, ['completed'])
    const [call] = await downstream.waitFor(1)
    expect(call).toMatchObject({ method: 'PUT', path: '/reports/cm5report789xyz' })
    expect(JSON.parse(call?.body ?? '')).toMatchObject({ externalId: 'cm5report789xyz', jobId: 'cm5job123abc456' })

    await page.getByRole('link', { name: 'Events' }).click()
    await page.waitForURL('**/events')
    await page.locator(`tr[data-event="${eventId}"] [data-status="completed"]`).waitFor()
    await page.locator(`tr[data-event="${eventId}"] a`).first().click()
    await page.waitForURL(`**/events/${eventId}`)
    await page.locator('.lineage-field[data-field="externalId"]').click()
    await page.locator('.json-tree [data-path="data.reportId"].jt-exact').waitFor()
    expect(await page.locator('.json-tree .jt-exact').count()).toBe(1)
    await page.locator('.lineage-field[data-field="jobId"]').click()
    await page.locator('.json-tree [data-path="data.jobId"].jt-exact').waitFor()
    expect(await page.locator('.json-tree [data-path="data.reportId"].jt-exact').count()).toBe(0)
    await screenshot(page, 'event-lineage')
    await page.goto(`${rt.url}/flows/${FLOW_ID}`)
    await page.locator('.react-flow__node[data-id="transform"]').waitFor()
  })

  it('shows the failing node and its error when a pasted payload does not pass', async () => {
    await openTab(page, 'Test run')
    await page.fill('textarea[name="payload"]', '{ "id": "evt_x", "data": {} }')
    await page.getByRole('button', { name: 'Run test' }).click()
    await page.locator('[data-testid="run-outcome"]', { hasText: 'rejected' }).waitFor()
    await page.locator('[data-id="validate"] .flow-node.failed .node-error').getByText('schema_reject').waitFor()
    await page.locator('.step-row.step-failed').getByText('validate').waitFor()
    expect(await page.locator('[data-id="dedupe"] .flow-node.off-path').count()).toBe(1)
    await screenshot(page, 'canvas-test-failed')
    await page.getByRole('button', { name: 'Clear result' }).click()
    await openTab(page, 'Inspect')
  })

  it('selects several nodes with Ctrl+click and deletes them together, undoably', async () => {
    await dropKind(page, 'respond', { x: 300, y: 700 })
    await dropKind(page, 'validate', { x: 600, y: 700 })
    await page.locator('.react-flow__node[data-id="respond"] .node-title').click()
    await page.locator('.react-flow__node[data-id="validate-2"] .node-title').click({ modifiers: ['Control'] })
    await page.getByRole('heading', { name: '2 nodes selected' }).waitFor()
    await page.keyboard.press('Delete')
    await page.locator('.react-flow__node[data-id="respond"]').waitFor({ state: 'detached' })
    await page.locator('.react-flow__node[data-id="validate-2"]').waitFor({ state: 'detached' })
    await page.keyboard.press('Control+z')
    await page.locator('.react-flow__node[data-id="validate-2"]').waitFor()
    await page.locator('.react-flow__node[data-id="respond"]').waitFor()
    // Back to the saved flow: undo the two additions too.
    await page.keyboard.press('Control+z')
    await page.keyboard.press('Control+z')
    await page.locator('.react-flow__node[data-id="respond"]').waitFor({ state: 'detached' })
    await page.locator('[data-testid="save-state"]', { hasText: 'unsaved changes' }).waitFor()
  })

  it('shows an invalid flow’s errors on the right node', async () => {
    await dropKind(page, 'transform', { x: 560, y: 700 })
    await page.locator('.react-flow__node[data-id="transform-2"]').waitFor()
    await page.fill('#config-transform-2_expression', '$.(')
    const node = page.locator('[data-id="transform-2"] .flow-node.has-issues')
    await node.waitFor()
    expect(await page.locator('[data-id="transform-2"] .badge-error').textContent()).toMatch(/⚠ [1-9]/)
    // The others stay clean.
    expect(await page.locator('[data-id="transform"] .flow-node.has-issues').count()).toBe(0)
    await openTab(page, 'Issues')
    const issues = page.locator('[data-testid="issues"]')
    await issues.getByText(/cannot be reached/).waitFor()
    await issues.getByText(/JSONata/).waitFor()
    await screenshot(page, 'canvas-invalid-issues')
    await issues.getByRole('button', { name: 'transform-2' }).first().click()
    await page
      .locator('[data-testid="inspector"] .error-detail')
      .getByText(/JSONata/)
      .waitFor()
    await screenshot(page, 'canvas-invalid')
    // Undo takes the node away again (and its edit).
    await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } })
    for (let i = 0; i < 2; i++) await page.keyboard.press('Control+z')
    await page.locator('.react-flow__node[data-id="transform-2"]').waitFor({ state: 'detached' })
    await page.keyboard.press('Control+Shift+z')
    await page.locator('.react-flow__node[data-id="transform-2"]').waitFor()
    await page.locator('.react-flow__node[data-id="transform-2"] .node-title').click()
    await page.keyboard.press('Delete')
    await page.locator('.react-flow__node[data-id="transform-2"]').waitFor({ state: 'detached' })
    await page.locator('[data-testid="issue-count"]', { hasText: /^0$/ }).waitFor()
  })

  it('saves a second version and shows what changed between versions', async () => {
    await openTab(page, 'Inspect')
    await selectNode(page, 'http')
    await page.fill('#config-http_url', '{{$vars.CRM_BASE_URL}}/v2/reports/{{externalId}}')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.locator('[data-testid="version-chip"]', { hasText: 'v2' }).waitFor()
    await page.getByRole('link', { name: 'Versions' }).click()
    await page.waitForURL(`**/flows/${FLOW_ID}/versions/2`)
    const diff = page.locator('[data-testid="diff"]')
    await diff.getByText('config.url').waitFor()
    await diff.getByText('“{{$vars.CRM_BASE_URL}}/v2/reports/{{externalId}}”').waitFor()
    expect(await page.locator('.versions-list li').count()).toBe(2)
    await screenshot(page, 'versions')
    // v1 against nothing before it: the first version.
    await page.locator('.versions-list').getByRole('link', { name: /v1/ }).click()
    await page.waitForURL(`**/versions/1`)
    await page.getByText('The first version: everything is new.').waitFor()
  })

  it('shows a version conflict with a choice, keeping the user’s work', async () => {
    await page.goto(`${rt.url}/flows/${FLOW_ID}`)
    await selectNode(page, 'transform')
    await page.fill('input[name="node-name"]', 'Report → CRM record')
    // Meanwhile someone else saves version 3.
    const theirs = await rt.api(`/api/flows/${FLOW_ID}`)
    const answer = await fetch(`${rt.url}/api/flows/${FLOW_ID}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...theirs, version: 3, description: 'their change' }),
    })
    expect(answer.status).toBe(201)
    await page.getByRole('button', { name: 'Save' }).click()
    const dialog = page.getByRole('alertdialog')
    await dialog.getByText('Someone saved version 3 meanwhile').waitFor()
    await screenshot(page, 'conflict')
    expect(await page.inputValue('input[name="node-name"]')).toBe('Report → CRM record')
    // The 409 itself is the expected answer, not a page error.
    pageErrors.splice(0, pageErrors.length, ...pageErrors.filter((e) => !e.includes('409 (Conflict)')))
    await dialog.getByRole('button', { name: 'Save mine as v4' }).click()
    await page.locator('[data-testid="version-chip"]', { hasText: 'v4' }).waitFor()
    const saved = await rt.api(`/api/flows/${FLOW_ID}`)
    expect(saved.version).toBe(4)
    expect(saved.nodes.find((n: { id: string }) => n.id === 'transform').name).toBe('Report → CRM record')
  })

  it('exports the canonical flow file and imports one', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export' }).click(),
    ])
    expect(download.suggestedFilename()).toBe(`${FLOW_ID}.flow.json`)
    const exported = await readFile((await download.path()) as string, 'utf8')
    // The file `mapper export` writes: the same bytes, and it reads back as the saved document.
    const saved = await rt.api(`/api/flows/${FLOW_ID}`)
    expect(exported).toBe(flowFileText(saved, nodeKinds))
    expect(documentFromFile(JSON.parse(exported), nodeKinds)).toEqual(
      (({ version: _numbered, ...rest }) => rest)(saved),
    )

    page.once('dialog', (d) => void d.accept())
    await page.setInputFiles('[data-testid="import-input"]', join(FLOWS_DIR, 'conduit-reports.flow.json'))
    await page.waitForFunction(() => document.querySelectorAll('.react-flow__node').length === 10)
    await page.locator('[data-testid="save-state"]', { hasText: 'unsaved changes' }).waitFor()
    await page.keyboard.press('Control+z')
    await page.waitForFunction(() => document.querySelectorAll('.react-flow__node').length === 6)
  })

  it('logs no errors in the browser console', () => {
    expect(pageErrors).toEqual([])
  })
})
