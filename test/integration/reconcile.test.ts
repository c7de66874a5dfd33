/**
 * Reconciliation over real HTTP on a real SQLite file: events whose downstream never answers (their worker
 * holds the lease) and one whose work was lost (removed from the database behind the runtime's back) are
 * listed by the API and by `mapper reconcile` with why, counted on /metrics, resumed (the downstream then
 * gets the same Idempotency-Key as on the first attempt) or dead-lettered with a reason, audited.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { AMOUNT_SCHEMA, bearerFlow } from '../support/bearer-flow.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { REPO_ROOT } from '../support/paths.ts'
import { ADMIN_TOKEN, startTestRuntime, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'

const SHOP_TOKEN = 'reconcile-shop-token'
const BIN = join(REPO_ROOT, 'bin/mapper.js')
/** Events older than this are unreconciled here (the default is 15 minutes). */
const RECONCILE_AFTER_MS = 300
/** A downstream answer that never comes within the test. */
const NEVER_MS = 60_000

function ordersFlow(): FlowDocument {
  const flow = bearerFlow({
    id: 'orders',
    path: 'shop/orders',
    tokenRef: 'SHOP_TOKEN',
    schema: AMOUNT_SCHEMA,
    expression: '{"orderId": id, "total": amount}',
    method: 'POST',
    url: '{{$vars.SHOP_URL}}/orders/{{orderId}}',
    delaysMs: [0, 1_000],
  })
  const deliver = flow.nodes.find((node) => node.id === 'deliver')
  if (deliver) deliver.config.timeoutMs = 2 * NEVER_MS
  return flow
}

/** `mapper …` as a child process (async, so the in-process runtime keeps answering). */
function mapper(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

describe('reconciliation over real HTTP on a real SQLite file', () => {
  let rt: TestRuntime
  let mock: DownstreamMock
  const tokens: Record<string, string> = {}
  /** Three events whose first downstream call hangs: one to resume, one to dead-letter, one whose work is lost. */
  const ids = { hung: '', given: '', lost: '' }

  const send = (id: string) =>
    rt.post('/hooks/shop/orders', JSON.stringify({ id, amount: 3 }), { authorization: `Bearer ${SHOP_TOKEN}` })
  const requestsFor = (orderId: string) => mock.requests.filter((r) => r.path === `/orders/${orderId}`)

  beforeAll(async () => {
    mock = await startDownstreamMock()
    for (const orderId of ['hung', 'given', 'lost']) {
      mock.script(`/orders/${orderId}`, [
        { status: 200, delayMs: NEVER_MS },
        { status: 200, body: { ok: true } },
      ])
    }
    rt = await startTestRuntime({
      flows: [ordersFlow()],
      secrets: { SHOP_TOKEN: [SHOP_TOKEN] },
      vars: { SHOP_URL: mock.url },
      runtime: { reconcileAfterMs: RECONCILE_AFTER_MS },
    })
    for (const role of ['viewer', 'operator']) {
      tokens[role] = (await rt.call('POST', '/tokens', { role, name: `reconcile ${role}` })).body.token
    }
    for (const orderId of ['hung', 'given', 'lost'] as const) {
      const answer = await send(orderId)
      expect(answer.status).toBe(202)
      ids[orderId] = answer.body.eventId
    }
    const done = await send('fine')
    await waitForEvent(rt, done.body.eventId)
    // Each hung call holds its worker's lease; the lost event's work item then vanishes from the database.
    await mock.waitFor(4)
    const db = new Sqlite(join(rt.dataDir, 'mapper.db'), { timeout: 5_000 })
    try {
      expect(db.prepare('DELETE FROM work_items WHERE event_id = ?').run(ids.lost).changes).toBe(1)
    } finally {
      db.close()
    }
    await new Promise((resolve) => setTimeout(resolve, RECONCILE_AFTER_MS + 50))
  })
  afterAll(async () => {
    // The downstream first: its hung answers fail, so the workers stop at once.
    await mock?.stop()
    await rt?.stop()
  })

  it('lists the stuck events with why: the worker holding each, or no work at all', async () => {
    const answer = await rt.call('GET', '/reconcile?flow=orders', undefined, tokens.viewer)
    expect(answer.status).toBe(200)
    expect(answer.body.olderThanMs).toBe(RECONCILE_AFTER_MS)
    const byId = new Map(answer.body.items.map((item: any) => [item.id, item]))
    expect([...byId.keys()].sort()).toEqual([ids.hung, ids.given, ids.lost].sort())
    for (const id of [ids.hung, ids.given]) {
      const item: any = byId.get(id)
      expect(item).toMatchObject({ flowId: 'orders', flowVersion: 1, status: 'processing', state: 'leased' })
      expect(item.work).toMatchObject([{ node: 'map', attempt: 1, leaseOwner: expect.stringMatching(/^worker-/) }])
      expect(item.why).toContain(item.work[0].leaseOwner)
      expect(item.ageMs).toBeGreaterThanOrEqual(RECONCILE_AFTER_MS)
    }
    expect(byId.get(ids.lost)).toMatchObject({ status: 'processing', state: 'no_work', work: [] })
    expect((byId.get(ids.lost) as any).why).toMatch(/work was lost/)
    expect((await rt.call('GET', '/reconcile?olderThanMs=600000', undefined, tokens.viewer)).body.items).toEqual([])
    const bad = await rt.call('GET', '/reconcile?olderThanMs=soon', undefined, tokens.viewer)
    expect([bad.status, bad.body.error.details]).toEqual([400, { parameter: 'olderThanMs' }])
  })

  it('lists them with `mapper reconcile` too', async () => {
    const listed = await mapper([
      'reconcile',
      '--server',
      rt.url,
      '--token',
      tokens.viewer as string,
      '--flow',
      'orders',
    ])
    expect(listed.stderr).toBe('')
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/^3 unreconciled event\(s\), accepted more than 300ms ago:/)
    expect(listed.stdout).toMatch(/EVENT +FLOW +STATUS +AGE +STATE +WHY/)
    for (const id of Object.values(ids)) expect(listed.stdout).toContain(id)
    expect(listed.stdout).toMatch(new RegExp(`${ids.lost} +orders@1 +processing +\\S+ +no_work `))
    const none = await mapper(['reconcile', '--server', rt.url, '--token', ADMIN_TOKEN, '--older-than', '10m'])
    expect(none.stdout.trim()).toBe('no unreconciled events: every event accepted more than 10m ago has settled')
  })

  it('counts them on /metrics', async () => {
    const text = await (await fetch(`${rt.url}/metrics`)).text()
    expect(text).toContain('# TYPE mapper_unreconciled_events gauge')
    expect(text).toMatch(/^mapper_unreconciled_events\{flow="orders"\} 3$/m)
  })

  it('acts for operators only, and only with a reason', async () => {
    const asViewer = await rt.call('POST', `/reconcile/${ids.hung}`, { action: 'resume', reason: 'x' }, tokens.viewer)
    expect(asViewer.status).toBe(403)
    for (const body of [{ action: 'resume' }, { action: 'resume', reason: '' }, { action: 'resume', reason: '  ' }]) {
      const answer = await rt.call('POST', `/reconcile/${ids.hung}`, body, tokens.operator)
      expect(answer.status, JSON.stringify(body)).toBe(400)
      expect(answer.body.error.message).toMatch(/^reason: /)
    }
    const what = await rt.call('POST', `/reconcile/${ids.hung}`, { action: 'retry', reason: 'x' }, tokens.operator)
    expect([what.status, what.body.error.message]).toEqual([400, expect.stringMatching(/^action: /)])
    const unknown = await rt.call('POST', '/reconcile/evt_nothing', { action: 'resume', reason: 'x' }, tokens.operator)
    expect(unknown.status).toBe(404)
  })

  it('resumes a hung event with `mapper reconcile --resume`: the downstream gets the same Idempotency-Key again', async () => {
    const resumed = await mapper([
      'reconcile',
      '--server',
      rt.url,
      '--token',
      tokens.operator as string,
      '--resume',
      ids.hung,
      '--reason',
      'CRM call hung during INC-7',
    ])
    expect(resumed.stderr).toBe('')
    expect(resumed.stdout.trim()).toBe(`resumed ${ids.hung}: pending work due now (1 item(s)), processing`)
    const event = await waitForEvent(rt, ids.hung)
    expect(event.status).toBe('completed')
    const [first, second] = requestsFor('hung')
    expect(second).toBeDefined()
    expect(second?.headers['idempotency-key']).toBe(`${ids.hung}:deliver`)
    expect(second?.headers['idempotency-key']).toBe(first?.headers['idempotency-key'])
  })

  it('resumes an event whose work was lost by running its work phase again, with the same Idempotency-Key', async () => {
    const answer = await rt.call(
      'POST',
      `/reconcile/${ids.lost}`,
      { action: 'resume', reason: 'work item lost in the restore' },
      tokens.operator,
    )
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({
      eventId: ids.lost,
      action: 'resume',
      outcome: 'restarted',
      status: 'accepted',
      items: 1,
    })
    expect((await waitForEvent(rt, ids.lost)).status).toBe('completed')
    const [first, second] = requestsFor('lost')
    expect(JSON.parse(second?.body ?? '{}')).toEqual({ orderId: 'lost', total: 3 })
    expect(second?.headers['idempotency-key']).toBe(first?.headers['idempotency-key'])
    const settled = await rt.call('POST', `/reconcile/${ids.lost}`, { action: 'resume', reason: 'x' }, tokens.operator)
    expect([settled.status, settled.body.error.code]).toEqual([409, 'settled'])
  })

  it('dead-letters an event with a reason: on the dead-letter list, category operator, audited', async () => {
    const answer = await rt.call(
      'POST',
      `/reconcile/${ids.given}`,
      { action: 'dead-letter', reason: 'order cancelled upstream' },
      tokens.operator,
    )
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ eventId: ids.given, action: 'dead-letter', outcome: 'dead', status: 'dead' })
    expect((await rt.api(`/api/events/${ids.given}`)).status).toBe('dead')
    const letters = (await rt.call('GET', '/dead-letters?flow=orders')).body.items
    expect(letters).toMatchObject([
      {
        id: answer.body.deadLetters[0],
        eventId: ids.given,
        node: 'map',
        error: {
          category: 'operator',
          message: 'order cancelled upstream',
          details: { by: 'reconcile operator', action: 'dead-letter' },
        },
      },
    ])
    const audit = (await rt.call('GET', '/audit?limit=20')).body.items
    expect(audit).toContainEqual(
      expect.objectContaining({
        actor: 'reconcile operator',
        action: 'reconcile.dead-letter',
        target: `event:${ids.given}`,
        reason: 'order cancelled upstream',
        details: expect.objectContaining({ previousStatus: 'processing', removedWork: 1 }),
      }),
    )
    for (const [id, reason, outcome] of [
      [ids.hung, 'CRM call hung during INC-7', 'due'],
      [ids.lost, 'work item lost in the restore', 'restarted'],
    ]) {
      expect(audit).toContainEqual(
        expect.objectContaining({
          actor: 'reconcile operator',
          action: 'reconcile.resume',
          target: `event:${id}`,
          reason,
          details: expect.objectContaining({ outcome }),
        }),
      )
    }
  })

  it('lists and counts nothing once each is settled', async () => {
    expect((await rt.call('GET', '/reconcile')).body.items).toEqual([])
    const text = await (await fetch(`${rt.url}/metrics`)).text()
    expect(text).toMatch(/^mapper_unreconciled_events\{flow="orders"\} 0$/m)
  })
})
