/**
 * Impact preview over real HTTP: a candidate version that changes one mapped field and one branch condition,
 * run on the stored events against the deployed version — the report names exactly that field and that path.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImpactPreview } from '../../runtime/server/api/impact.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { REPO_ROOT, readFixture, readFlow } from '../support/paths.ts'
import { startTestRuntime, stripeHeader, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'

const SECRET = 'whsec_impact_preview'
const run = promisify(execFile)

type Flow = { version: number; nodes: Array<{ id: string; config: Record<string, any> }> }

/** v2: the report's status mapped in lower case, and report.failed no longer matched by its case. */
function candidate(): Flow {
  const flow = readFlow('conduit-reports') as Flow
  flow.version = 2
  const map = flow.nodes.find((n) => n.id === 'map-report') as Flow['nodes'][number]
  map.config.expression = String(map.config.expression).replace('$uppercase(data.status)', '$lowercase(data.status)')
  const branch = flow.nodes.find((n) => n.id === 'by-type') as Flow['nodes'][number]
  branch.config.cases[1].when = 'type = "report.failed" and data.error.code = "never"'
  return flow
}

describe('POST /api/flows/:id/impact', () => {
  let rt: TestRuntime
  let crm: DownstreamMock
  let editor: string
  let viewer: string

  async function deliver(fixture: string, id: string, headers: Record<string, string> = {}): Promise<number> {
    const body = readFixture(`conduit/${fixture}.json`).replace(/"id": "[^"]+"/, `"id": "${id}"`)
    const answer = await rt.post('/hooks/conduit/reports', body, {
      'conduit-signature': stripeHeader(SECRET, body),
      ...headers,
    })
    if (answer.status === 202) await waitForEvent(rt, answer.body.eventId)
    return answer.status
  }

  beforeAll(async () => {
    crm = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: ['conduit-reports'],
      secrets: { CONDUIT_WEBHOOK_SECRET: [SECRET], CRM_API_KEY: ['crm-key'] },
      vars: { CRM_BASE_URL: crm.url },
    })
    expect(await deliver('report.completed', 'evt_impact_1')).toBe(202)
    expect(await deliver('report.failed', 'evt_impact_2')).toBe(202)
    expect(await deliver('matching.completed', 'evt_impact_3')).toBe(202)
    expect(await deliver('report.completed', 'evt_impact_4')).toBe(202)
    // Left out: a test-marked event, and a delivery the flow refused.
    expect(await deliver('report.completed', 'evt_impact_test', { 'x-mapper-test': '1' })).toBe(202)
    const refused = await rt.post('/hooks/conduit/reports', '{}', { 'conduit-signature': stripeHeader(SECRET, '{}') })
    expect(refused.status).toBe(422)
    const saved = await rt.call('PUT', '/flows/conduit-reports', candidate())
    expect(saved.status, JSON.stringify(saved.body)).toBe(201)
    editor = (await rt.call('POST', '/tokens', { role: 'editor', name: 'impact editor' })).body.token
    viewer = (await rt.call('POST', '/tokens', { role: 'viewer', name: 'impact viewer' })).body.token
  })
  afterAll(async () => {
    await rt?.stop()
    await crm?.stop()
  })

  it('names exactly the changed mapped field and the changed path, and calls no downstream', async () => {
    const calls = crm.requests.length
    const answer = await rt.call('POST', '/flows/conduit-reports/impact', { version: 2, events: 10 }, editor)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    const preview = answer.body as ImpactPreview
    expect(preview).toMatchObject({ flowId: 'conduit-reports', deployedVersion: 1, candidateVersion: 2 })
    expect(preview.totals).toEqual({
      requested: 10,
      compared: 4,
      changed: 3,
      unchanged: 1,
      errors: 0,
      pathChanged: 1,
      outcomeChanged: 0,
      outputChanged: 2,
    })
    // The mapped field, and the same field in the request the http node would send: nothing else.
    expect(preview.fields).toEqual([
      { node: 'crm-report', path: '$.request.body.status', events: 2 },
      { node: 'map-report', path: '$.status', events: 2 },
    ])
    const completed = preview.events.find(
      (e) => e.eventId.length > 0 && e.nodes.length > 0,
    ) as ImpactPreview['events'][0]
    expect(completed.nodes).toEqual([
      {
        node: 'map-report',
        fields: [{ path: '$.status', change: 'changed', before: 'COMPLETED', after: 'completed' }],
      },
      {
        node: 'crm-report',
        fields: [{ path: '$.request.body.status', change: 'changed', before: 'COMPLETED', after: 'completed' }],
      },
    ])
    expect(completed.path.changed).toBe(false)
    // report.failed: the branch now answers `otherwise`, so the failure is no longer mapped nor sent.
    expect(preview.paths).toHaveLength(1)
    const [change] = preview.paths
    expect(change?.events).toBe(1)
    expect(change?.deployed.slice(3)).toEqual([
      ['by-type', 'report-failed'],
      ['map-failure', 'ok'],
      ['crm-failure', 'ok'],
    ])
    expect(change?.candidate.slice(3)).toEqual([['by-type', 'otherwise']])
    const failed = preview.events.find((e) => e.path.changed) as ImpactPreview['events'][0]
    expect(failed.removed).toEqual(['map-failure', 'crm-failure'])
    expect(failed.nodes).toEqual([])
    expect(crm.requests.length).toBe(calls)
  })

  it('runs only the newest N events, and nothing changes for the deployed version itself', async () => {
    const newest = (await rt.call('POST', '/flows/conduit-reports/impact', { version: 2, events: 1 }, editor)).body
    expect(newest.events.map((e: { eventId: string }) => e.eventId)).toHaveLength(1)
    expect(newest.totals).toMatchObject({ requested: 1, compared: 1, changed: 1 })
    const same = (await rt.call('POST', '/flows/conduit-reports/impact', { version: 1 }, editor)).body
    expect(same.totals).toMatchObject({ requested: 20, compared: 4, changed: 0, unchanged: 4 })
  })

  it('needs the editor role, a saved version and at most 500 events', async () => {
    expect((await rt.call('POST', '/flows/conduit-reports/impact', { version: 2 }, viewer)).status).toBe(403)
    const missing = await rt.call('POST', '/flows/conduit-reports/impact', { version: 9 }, editor)
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found'])
    const tooMany = await rt.call('POST', '/flows/conduit-reports/impact', { version: 2, events: 501 }, editor)
    expect([tooMany.status, tooMany.body.error.code]).toEqual([400, 'invalid_body'])
    expect(tooMany.body.error.message).toMatch(/^events: /)
  })

  it('prints a readable report with `mapper impact flow@2`', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(REPO_ROOT, 'bin/mapper.js'), 'impact', 'conduit-reports@2', '--events', '10'],
      { cwd: REPO_ROOT, env: { ...process.env, MAPPER_URL: rt.url, MAPPER_TOKEN: editor } },
    )
    expect(stdout).toContain('conduit-reports: candidate v2 against deployed v1, on the newest 4 of 10 events asked')
    expect(stdout).toContain('changed 3 · unchanged 1 · errors 0')
    expect(stdout).toContain('map-report  $.status')
    expect(stdout).toContain('"COMPLETED" → "completed"')
    expect(stdout).toContain('by-type:report-failed → map-failure:ok → crm-failure:ok')
    expect(stdout).toContain('by-type:otherwise')
  })
})
