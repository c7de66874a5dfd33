/**
 * Canary deploys over real HTTP: a candidate takes its share of new events, split by what identifies each
 * event (a redelivery goes where the first delivery went), figures split by version, promote and roll back in
 * one call, audited, operators only; and on PostgreSQL, two runtimes on one database split alike.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { type Runtime, startRuntime } from '../../runtime/server/runtime.ts'
import { openStore } from '../../runtime/store/open-store.ts'
import { AMOUNT_SCHEMA, bearerFlow } from '../support/bearer-flow.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { SCHEMAS_DIR } from '../support/paths.ts'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.ts'
import { startTestRuntime, type TestRuntime } from '../support/runtime-harness.ts'

const SHOP_TOKEN = 'canary-shop-token'
const EVENTS = 400
const CONCURRENCY = 16

function ordersFlow(version: number, label: string, path = 'shop/orders'): FlowDocument {
  return bearerFlow({
    id: 'orders',
    version,
    name: 'Shop orders',
    path,
    tokenRef: 'SHOP_TOKEN',
    schema: AMOUNT_SCHEMA,
    expression: `{"orderId": id, "total": amount, "label": "${label}"}`,
    method: 'POST',
    url: '{{$vars.SHOP_URL}}/orders/{{orderId}}',
    delaysMs: [0],
  })
}

/** Runs `job` on every item, `CONCURRENCY` at a time, keeping the order of the answers. */
async function inParallel<T, R>(items: T[], job: (item: T) => Promise<R>): Promise<R[]> {
  const answers: R[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < items.length; i = next++) answers[i] = await job(items[i] as T)
    }),
  )
  return answers
}

describe('canary deploys over real HTTP on a real SQLite file', () => {
  let rt: TestRuntime
  let mock: DownstreamMock
  const tokens: Record<string, string> = {}

  const send = (id: string) =>
    rt.post('/hooks/shop/orders', JSON.stringify({ id, amount: 12.5 }), { authorization: `Bearer ${SHOP_TOKEN}` })

  /** The version each accepted event ran on, from the events API. */
  async function versionsOf(eventIds: string[]): Promise<Map<string, number>> {
    const wanted = new Set(eventIds)
    const found = new Map<string, number>()
    let cursor: string | null = null
    do {
      const page = await rt.call('GET', `/events?flow=orders&limit=500${cursor ? `&cursor=${cursor}` : ''}`)
      for (const event of page.body.items) if (wanted.has(event.id)) found.set(event.id, event.flowVersion)
      cursor = page.body.nextCursor
    } while (cursor)
    return found
  }

  async function sendMany(prefix: string, count: number): Promise<string[]> {
    const answers = await inParallel(
      Array.from({ length: count }, (_, i) => `${prefix}-${i}`),
      send,
    )
    expect(answers.map((a) => a.status)).toEqual(Array(count).fill(202))
    return answers.map((a) => a.body.eventId as string)
  }

  beforeAll(async () => {
    mock = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: [ordersFlow(1, 'stable')],
      secrets: { SHOP_TOKEN: [SHOP_TOKEN] },
      vars: { SHOP_URL: mock.url },
    })
    for (const version of [2, 3]) {
      expect((await rt.call('PUT', '/flows/orders', ordersFlow(version, `v${version}`))).status).toBe(201)
    }
    expect((await rt.call('PUT', '/flows/orders', ordersFlow(4, 'moved', 'shop/orders-v4'))).status).toBe(201)
    for (const role of ['editor', 'operator']) {
      const made = await rt.call('POST', '/tokens', { role, name: `canary ${role}` })
      tokens[role] = made.body.token
    }
  })
  afterAll(async () => {
    await rt?.stop()
    await mock?.stop()
  })

  it('refuses a canary to an editor, of the deployed version, on another path, and promote with none running', async () => {
    const asEditor = await rt.call('POST', '/flows/orders/deploy', { version: 2, canaryPercent: 30 }, tokens.editor)
    expect(asEditor.status).toBe(403)
    for (const action of ['promote', 'rollback']) {
      expect((await rt.call('POST', `/flows/orders/canary/${action}`, {}, tokens.editor)).status).toBe(403)
      const none = await rt.call('POST', `/flows/orders/canary/${action}`, {}, tokens.operator)
      expect(none.status).toBe(409)
      expect(none.body.error.code).toBe('no_canary')
    }
    const itself = await rt.call('POST', '/flows/orders/deploy', { version: 1, canaryPercent: 30 })
    expect([itself.status, itself.body.error.code]).toEqual([409, 'canary_is_deployed'])
    const moved = await rt.call('POST', '/flows/orders/deploy', { version: 4, canaryPercent: 30 })
    expect([moved.status, moved.body.error.code]).toEqual([409, 'canary_path_differs'])
    for (const canaryPercent of [0, 100, 12.5]) {
      const bad = await rt.call('POST', '/flows/orders/deploy', { version: 2, canaryPercent })
      expect(bad.status).toBe(400)
      expect(bad.body.error.message).toMatch(/^canaryPercent: /)
    }
    expect((await rt.call('GET', '/flows')).body).toContainEqual(
      expect.objectContaining({ id: 'orders', deployedVersion: 1, canary: null }),
    )
  })

  it('sends about 30 % of 400 new events to a 30 % canary, and a redelivery to the version of the first', async () => {
    const deployed = await rt.call(
      'POST',
      '/flows/orders/deploy',
      { version: 2, canaryPercent: 30, reason: 'try the v2 mapping' },
      tokens.operator,
    )
    expect(deployed.status).toBe(200)
    expect(deployed.body).toEqual({ flowId: 'orders', version: 1, canary: { version: 2, percent: 30 } })
    expect((await rt.call('GET', '/flows')).body).toContainEqual(
      expect.objectContaining({ id: 'orders', deployedVersion: 1, canary: { version: 2, percent: 30 } }),
    )
    const versions = (await rt.call('GET', '/flows/orders/versions')).body
    expect(versions.find((v: any) => v.version === 1)).toMatchObject({ deployed: true, canary: null })
    expect(versions.find((v: any) => v.version === 2)).toMatchObject({
      deployed: false,
      canary: { version: 2, percent: 30 },
    })

    const eventIds = await sendMany('split', EVENTS)
    const ran = await versionsOf(eventIds)
    expect(ran.size).toBe(EVENTS)
    const onCandidate = [...ran.values()].filter((v) => v === 2).length
    expect([...new Set(ran.values())].sort()).toEqual([1, 2])
    expect(onCandidate / EVENTS).toBeGreaterThanOrEqual(0.22)
    expect(onCandidate / EVENTS).toBeLessThanOrEqual(0.38)

    // Redeliveries of 40 of them: each is a duplicate of its first delivery, taken by the same version.
    const again = await inParallel(
      Array.from({ length: 40 }, (_, i) => i * 10),
      (i) => send(`split-${i}`),
    )
    again.forEach((answer, n) => {
      const first = eventIds[n * 10] as string
      expect(answer.status).toBe(200)
      expect(answer.body).toMatchObject({ duplicate: true, eventId: first })
    })
    const duplicateEvents = (await rt.call('GET', '/events?flow=orders&status=duplicate&limit=500')).body.items
    expect(duplicateEvents).toHaveLength(40)
    for (const duplicate of duplicateEvents) expect(duplicate.flowVersion).toBe(ran.get(duplicate.duplicateOf))

    // What the downstream got says which version's mapping ran.
    await mock.waitFor(EVENTS, 30_000)
    const labels = new Map(mock.requests.map((r) => [JSON.parse(r.body).orderId, JSON.parse(r.body).label]))
    expect(labels.get('split-0')).toBe(ran.get(eventIds[0] as string) === 2 ? 'v2' : 'stable')
    expect([...labels.values()].filter((label) => label === 'v2')).toHaveLength(onCandidate)
  })

  it('splits the figures by version while the canary runs, in /api/metrics/summary and /metrics', async () => {
    const deadline = Date.now() + 20_000
    let summary: any
    do {
      summary = (await rt.call('GET', '/metrics/summary?flow=orders')).body
      const done = summary.versions?.reduce((n: number, v: any) => n + v.windows[0].completed, 0) ?? 0
      if (done >= EVENTS) break
      await new Promise((r) => setTimeout(r, 100))
    } while (Date.now() < deadline)
    expect(summary.canary).toEqual({ stableVersion: 1, version: 2, percent: 30 })
    const [stable, canary] = summary.versions
    expect([stable.version, stable.role, canary.version, canary.role]).toEqual([1, 'stable', 2, 'canary'])
    const fiveMinutes = (v: any) => v.windows.find((w: any) => w.window === '5m')
    expect(fiveMinutes(stable).received + fiveMinutes(canary).received).toBe(EVENTS + 40)
    expect(fiveMinutes(stable).completed + fiveMinutes(canary).completed).toBe(EVENTS)
    expect(fiveMinutes(canary).completed).toBeGreaterThan(0)
    expect(fiveMinutes(canary).dead).toBe(0)
    expect(fiveMinutes(canary).ackMs.p99).toEqual(expect.any(Number))
    expect(summary.windows.find((w: any) => w.window === '5m').received).toBe(EVENTS + 40)
    const text = await (await fetch(`${rt.url}/metrics`)).text()
    for (const version of ['1', '2']) {
      expect(text).toMatch(
        new RegExp(
          `mapper_webhooks_received_total\\{flow="orders",outcome="accepted",status="202",version="${version}"\\} [1-9]`,
        ),
      )
      expect(text).toContain(
        `mapper_processing_latency_seconds_count{flow="orders",status="completed",version="${version}"}`,
      )
    }
  })

  it('promotes in one call: every new event then goes to the candidate', async () => {
    const promoted = await rt.call(
      'POST',
      '/flows/orders/canary/promote',
      { reason: 'v2 looks right' },
      tokens.operator,
    )
    expect(promoted.status).toBe(200)
    expect(promoted.body).toEqual({ flowId: 'orders', version: 2, canary: null })
    expect((await rt.call('GET', '/flows')).body).toContainEqual(
      expect.objectContaining({ id: 'orders', deployedVersion: 2, canary: null }),
    )
    const ran = await versionsOf(await sendMany('promoted', 60))
    expect(new Set(ran.values())).toEqual(new Set([2]))
    expect((await rt.call('GET', '/metrics/summary?flow=orders')).body.versions).toBeUndefined()
  })

  it('rolls back in one call: every new event then goes to the stable version again', async () => {
    const canary = await rt.call('POST', '/flows/orders/deploy', { version: 3, canaryPercent: 50 }, tokens.operator)
    expect(canary.body).toEqual({ flowId: 'orders', version: 2, canary: { version: 3, percent: 50 } })
    const during = await versionsOf(await sendMany('half', 60))
    expect(new Set(during.values())).toEqual(new Set([2, 3]))
    const rolledBack = await rt.call(
      'POST',
      '/flows/orders/canary/rollback',
      { reason: 'v3 drops totals' },
      tokens.operator,
    )
    expect(rolledBack.body).toEqual({ flowId: 'orders', version: 2, canary: null })
    const after = await versionsOf(await sendMany('rolled-back', 60))
    expect(new Set(after.values())).toEqual(new Set([2]))
  })

  it('writes every canary step to the audit log with who and why', async () => {
    const entries = (await rt.call('GET', '/audit?limit=50')).body.items
    const canarySteps = entries
      .filter((e: any) => ['deploy.canary', 'canary.promote', 'canary.rollback'].includes(e.action))
      .reverse()
    expect(canarySteps).toMatchObject([
      {
        action: 'deploy.canary',
        actor: 'canary operator',
        target: 'flow:orders@2',
        reason: 'try the v2 mapping',
        details: { stableVersion: 1, percent: 30 },
      },
      {
        action: 'canary.promote',
        target: 'flow:orders@2',
        reason: 'v2 looks right',
        details: { previousVersion: 1, endedCanary: { version: 2, percent: 30 } },
      },
      { action: 'deploy.canary', target: 'flow:orders@3', reason: null, details: { stableVersion: 2, percent: 50 } },
      {
        action: 'canary.rollback',
        target: 'flow:orders@2',
        reason: 'v3 drops totals',
        details: { previousVersion: 2, endedCanary: { version: 3, percent: 50 } },
      },
    ])
  })
})

describe.runIf(await pgAvailable())('a canary on two runtimes sharing one PostgreSQL database', () => {
  let database: TestDatabase
  let mock: DownstreamMock
  const runtimes: Runtime[] = []
  const dataDirs: string[] = []

  beforeAll(async () => {
    database = await createTestDatabase('canary')
    mock = await startDownstreamMock()
    for (let n = 0; n < 2; n++) {
      const store = await openStore(database.url, '')
      const dataDir = mkdtempSync(join(tmpdir(), 'mapper-canary-'))
      dataDirs.push(dataDir)
      if (n === 0) {
        for (const [version, label] of [
          [1, 'stable'],
          [2, 'v2'],
        ] as const) {
          await store.saveFlowVersion(ordersFlow(version, label), 'test')
        }
        await store.deployFlow('orders', 1)
      }
      runtimes.push(
        await startRuntime({
          store,
          schemasDir: SCHEMAS_DIR,
          port: 0,
          host: '127.0.0.1',
          secrets: (name) => (name === 'SHOP_TOKEN' ? [SHOP_TOKEN] : []),
          vars: { SHOP_URL: mock.url },
          adminToken: 'canary-pg-admin',
          // Where each keeps its secret key: the flow's token comes from `secrets` here, not from the store.
          dataDir,
          logger: pino({ level: 'silent' }),
        }),
      )
    }
  })
  afterAll(async () => {
    for (const runtime of runtimes) await runtime.stop()
    await mock?.stop()
    await database?.drop()
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
  })

  it('splits alike in both once a canary deployed through one reaches the other by the store’s news', async () => {
    const [a, b] = runtimes as [Runtime, Runtime]
    const deployed = await fetch(`${a.url}/api/flows/orders/deploy`, {
      method: 'POST',
      headers: { authorization: 'Bearer canary-pg-admin', 'content-type': 'application/json' },
      body: JSON.stringify({ version: 2, canaryPercent: 40 }),
    })
    expect(deployed.status).toBe(200)
    const deadline = Date.now() + 15_000
    while (b.registry.canary('orders') === undefined && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    expect(b.registry.canary('orders')).toEqual({ version: 2, percent: 40 })

    const post = (runtime: Runtime, id: string) =>
      fetch(`${runtime.url}/hooks/shop/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SHOP_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id, amount: 1 }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { eventId: string; duplicate?: boolean } }))
    const ids = Array.from({ length: 100 }, (_, i) => `pg-${i}`)
    // Each event first to one runtime, then redelivered to the other.
    const first = await inParallel(ids, (id) => post(Number(id.slice(3)) % 2 === 0 ? a : b, id))
    const second = await inParallel(ids, (id) => post(Number(id.slice(3)) % 2 === 0 ? b : a, id))
    expect(first.map((r) => r.status)).toEqual(Array(100).fill(202))
    expect(second.map((r) => r.status)).toEqual(Array(100).fill(200))
    const versionOf = new Map<string, number>()
    const duplicateVersions: Array<[string, number]> = []
    let cursor: string | undefined
    do {
      const page = await a.store.listEvents({ flow: 'orders', limit: 500, ...(cursor ? { cursor } : {}) })
      for (const event of page.items) {
        if (event.status === 'duplicate')
          duplicateVersions.push([event.duplicateOf as string, event.flowVersion as number])
        else versionOf.set(event.id, event.flowVersion as number)
      }
      cursor = page.nextCursor ?? undefined
    } while (cursor)
    expect(duplicateVersions).toHaveLength(100)
    for (const [firstId, version] of duplicateVersions) expect(version).toBe(versionOf.get(firstId))
    const onCandidate = [...versionOf.values()].filter((v) => v === 2).length
    expect(onCandidate).toBeGreaterThan(20)
    expect(onCandidate).toBeLessThan(60)
  })
})
