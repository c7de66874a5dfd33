import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { bearerFlow } from '../support/bearer-flow.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { startTestRuntime, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'

const SHOP_TOKEN = 'shop-webhook-token'

/** verify (bearer) → validate (inline schema) → dedupe → transform → http, as data. */
function ordersFlow(version: number, label = 'v1'): FlowDocument {
  return bearerFlow({
    id: 'orders',
    version,
    name: 'Shop orders',
    path: 'shop/orders',
    tokenRef: 'SHOP_TOKEN',
    schema: {
      type: 'object',
      required: ['id', 'type', 'amount'],
      properties: { id: { type: 'string' }, type: { type: 'string' }, amount: { type: 'number' } },
    },
    expression: `{"orderId": id, "total": amount, "label": "${label}"}`,
    method: 'POST',
    url: '{{$vars.SHOP_URL}}/orders/{{orderId}}',
    delaysMs: [0],
  })
}

interface Answer {
  status: number
  body: any
}

describe('the flows API over real HTTP on a real SQLite file', () => {
  let rt: TestRuntime
  let mock: DownstreamMock

  beforeAll(async () => {
    mock = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: [ordersFlow(1)],
      secrets: { SHOP_TOKEN: [SHOP_TOKEN] },
      vars: { SHOP_URL: mock.url },
    })
  })
  afterAll(async () => {
    await rt?.stop()
    await mock?.stop()
  })

  const call = (method: string, path: string, body?: unknown, token?: string): Promise<Answer> =>
    rt.call(method, path, body, token)

  const latestVersion = async () => (await call('GET', '/flows/orders')).body.version as number

  const sendOrder = (order: Record<string, unknown>) =>
    rt.post('/hooks/shop/orders', JSON.stringify(order), { authorization: `Bearer ${SHOP_TOKEN}` })

  describe('reading', () => {
    it('lists flows with their latest and deployed versions', async () => {
      const flows = await call('GET', '/flows')
      expect(flows.status).toBe(200)
      expect(flows.body).toContainEqual({
        id: 'orders',
        name: 'Shop orders',
        version: 1,
        deployedVersion: 1,
        canary: null,
      })
    })

    it('answers the latest document, the version list and one version', async () => {
      const latest = await call('GET', '/flows/orders')
      expect(latest.status).toBe(200)
      expect(latest.body).toMatchObject({ id: 'orders', version: 1, trigger: { path: 'shop/orders' } })
      const versions = await call('GET', '/flows/orders/versions')
      expect(versions.body[0]).toMatchObject({ version: 1, savedBy: 'flows-dir', deployed: true })
      expect(versions.body[0].hash).toMatch(/^[0-9a-f]{64}$/)
      const one = await call('GET', '/flows/orders/versions/1')
      expect(one.body).toMatchObject({ flowId: 'orders', version: 1, deployed: true, document: { id: 'orders' } })
    })

    it('answers 404 for an unknown flow or version, and 400 for a version that is not a number', async () => {
      expect((await call('GET', '/flows/nope')).status).toBe(404)
      expect((await call('GET', '/flows/nope/versions')).status).toBe(404)
      expect((await call('GET', '/flows/orders/versions/99')).status).toBe(404)
      const bad = await call('GET', '/flows/orders/versions/latest')
      expect(bad.status).toBe(400)
      expect(bad.body.error.details).toEqual({ parameter: 'version' })
    })
  })

  describe('saving', () => {
    it('saves a document whose version is the latest + 1 as a new version, with who saved it', async () => {
      const next = (await latestVersion()) + 1
      const saved = await call('PUT', '/flows/orders', ordersFlow(next, 'saved'))
      expect(saved.status).toBe(201)
      expect(saved.body).toMatchObject({ flowId: 'orders', version: next, savedBy: 'admin (MAPPER_ADMIN_TOKEN)' })
      expect((await call('GET', '/flows/orders')).body.version).toBe(next)
      const versions = await call('GET', '/flows/orders/versions')
      expect(versions.body.map((v: { version: number }) => v.version)).toContain(next)
      const audit = await call('GET', '/audit')
      expect(audit.body.items).toContainEqual(
        expect.objectContaining({ action: 'save', target: `flow:orders@${next}`, actor: 'admin (MAPPER_ADMIN_TOKEN)' }),
      )
    })

    it('gives exactly one 201 and one 409 to two concurrent saves from the same base version', async () => {
      const next = (await latestVersion()) + 1
      const [a, b] = await Promise.all([
        call('PUT', '/flows/orders', ordersFlow(next, 'alice')),
        call('PUT', '/flows/orders', ordersFlow(next, 'bob')),
      ])
      expect([a.status, b.status].sort()).toEqual([201, 409])
      const conflict = a.status === 409 ? a : b
      expect(conflict.body.error.code).toBe('version_conflict')
      expect(conflict.body.error.details).toEqual({ latest: next })
      expect(await latestVersion()).toBe(next)
    })

    it('answers 409 with the latest version to a save that skips or repeats a version', async () => {
      const latest = await latestVersion()
      const skipped = await call('PUT', '/flows/orders', ordersFlow(latest + 2))
      expect(skipped.status).toBe(409)
      expect(skipped.body.error).toMatchObject({ code: 'version_conflict', details: { latest } })
      const repeated = await call('PUT', '/flows/orders', ordersFlow(latest))
      expect(repeated.status).toBe(409)
    })

    it('answers 400 with graph-check messages naming the node and the field for an invalid flow', async () => {
      const doc = ordersFlow((await latestVersion()) + 1)
      const deliver = doc.nodes.find((n) => n.id === 'deliver') as FlowDocument['nodes'][number]
      deliver.config = { ...deliver.config, method: 'FETCH' }
      doc.edges.push({ from: 'map', port: 'ok', to: 'nowhere' })
      const answer = await call('PUT', '/flows/orders', doc)
      expect(answer.status).toBe(400)
      expect(answer.body.error.code).toBe('invalid_flow')
      const issues = answer.body.error.details as Array<{
        code: string
        nodeId?: string
        field?: string
        message: string
      }>
      expect(issues).toContainEqual(
        expect.objectContaining({ code: 'invalid_config', nodeId: 'deliver', field: 'config.method' }),
      )
      expect(issues).toContainEqual(expect.objectContaining({ code: 'edge_to_missing', nodeId: 'map' }))
      expect(answer.body.error.message).toContain('deliver')
      expect(issues.every((issue) => typeof issue.message === 'string' && issue.message.length > 0)).toBe(true)
    })

    it('answers 400 naming the id when the document is not the flow of the address', async () => {
      const answer = await call('PUT', '/flows/orders', { ...ordersFlow((await latestVersion()) + 1), id: 'other' })
      expect(answer.status).toBe(400)
      expect(answer.body.error.message).toMatch(/^id: /)
      expect(answer.body.error.details[0]).toMatchObject({ path: '/id' })
    })

    it('refuses a viewer with 403', async () => {
      const viewer = (await call('POST', '/tokens', { role: 'viewer', name: 'flows viewer' })).body.token as string
      const answer = await call('PUT', '/flows/orders', ordersFlow((await latestVersion()) + 1), viewer)
      expect(answer.status).toBe(403)
      expect((await call('GET', '/flows/orders', undefined, viewer)).status).toBe(200)
    })
  })

  describe('deploying', () => {
    it('makes the deployed version take the next webhook', async () => {
      const next = (await latestVersion()) + 1
      expect((await call('PUT', '/flows/orders', ordersFlow(next, 'deployed'))).status).toBe(201)
      const deployed = await call('POST', '/flows/orders/deploy', { version: next, reason: 'new label' })
      expect(deployed.status).toBe(200)
      expect(deployed.body).toEqual({ flowId: 'orders', version: next, canary: null })
      expect((await call('GET', '/flows')).body).toContainEqual(
        expect.objectContaining({ id: 'orders', deployedVersion: next }),
      )

      const answer = await sendOrder({ id: 'ord-deploy-1', type: 'order.created', amount: 12.5 })
      expect(answer.status).toBe(202)
      const event = await waitForEvent(rt, answer.body.eventId)
      expect(event.flowVersion).toBe(next)
      expect(event.status).toBe('completed')
      const call_ = mock.requests.find((r) => r.path === '/orders/ord-deploy-1')
      expect(JSON.parse(call_?.body ?? '{}')).toEqual({ orderId: 'ord-deploy-1', total: 12.5, label: 'deployed' })
      const audit = await call('GET', '/audit')
      expect(audit.body.items).toContainEqual(
        expect.objectContaining({ action: 'deploy', target: `flow:orders@${next}`, reason: 'new label' }),
      )
    })

    it('answers 404 for a version that was never saved and 400 without a version', async () => {
      expect((await call('POST', '/flows/orders/deploy', { version: 999 })).status).toBe(404)
      const missing = await call('POST', '/flows/orders/deploy', {})
      expect(missing.status).toBe(400)
      expect(missing.body.error.message).toMatch(/^version: /)
    })
  })

  describe('test runs', () => {
    it('skips verify without headers, shows the request an http node would send, and calls nothing', async () => {
      const before = mock.requests.length
      const answer = await call('POST', '/flows/orders/test', {
        payload: { id: 'ord-test-1', type: 'order.created', amount: 3 },
      })
      expect(answer.status).toBe(200)
      expect(answer.body.outcome).toBe('completed')
      const steps = answer.body.steps as Array<Record<string, any>>
      expect(steps.map((s) => s.node)).toEqual(['auth', 'validate', 'dedupe', 'map', 'deliver'])
      expect(steps[0]).toMatchObject({ node: 'auth', port: 'ok', skipped: true })
      const deliver = steps.at(-1) as Record<string, any>
      expect(deliver.request).toMatchObject({ method: 'POST', url: `${mock.url}/orders/ord-test-1` })
      expect(JSON.parse(deliver.request.body)).toMatchObject({ orderId: 'ord-test-1', total: 3 })
      expect(deliver.note).toEqual({ sent: false })
      expect(steps[3]).toMatchObject({ node: 'map', input: { id: 'ord-test-1' }, output: { orderId: 'ord-test-1' } })
      expect(answer.body.lineage.map).toMatchObject({ orderId: ['id'], total: ['amount'] })
      await new Promise((r) => setTimeout(r, 200))
      expect(mock.requests.length).toBe(before)
    })

    it('checks the signature when headers are given', async () => {
      const payload = { id: 'ord-test-2', type: 'order.created', amount: 4 }
      const good = await call('POST', '/flows/orders/test', {
        payload,
        headers: { Authorization: `Bearer ${SHOP_TOKEN}` },
      })
      expect(good.body.outcome).toBe('completed')
      expect(good.body.steps[0].skipped).toBeUndefined()
      const bad = await call('POST', '/flows/orders/test', { payload, headers: { authorization: 'Bearer wrong' } })
      expect(bad.body.outcome).toBe('rejected')
      expect(bad.body.rejection).toMatchObject({ status: 401, code: 'invalid_signature', node: 'auth' })
    })

    it('gives rejected with the field path for a payload that fails the schema', async () => {
      const answer = await call('POST', '/flows/orders/test', { payload: { id: 'ord-test-3', type: 'x' } })
      expect(answer.status).toBe(200)
      expect(answer.body.outcome).toBe('rejected')
      expect(answer.body.rejection).toMatchObject({ status: 422, code: 'schema_reject', node: 'validate' })
      expect(answer.body.rejection.details).toContainEqual(
        expect.objectContaining({ path: '/amount', rule: 'required' }),
      )
    })

    it('reports a duplicate for a key an accepted event holds, without taking any claim', async () => {
      const order = { id: 'ord-dup-1', type: 'order.created', amount: 5 }
      const first = await call('POST', '/flows/orders/test', { payload: order })
      expect(first.body.outcome).toBe('completed')
      // The test run took no claim: the real delivery is new.
      const delivered = await sendOrder(order)
      expect(delivered.status).toBe(202)
      await waitForEvent(rt, delivered.body.eventId)
      const second = await call('POST', '/flows/orders/test', { payload: order })
      expect(second.body.outcome).toBe('duplicate')
      expect(second.body.duplicateOf).toBe(delivered.body.eventId)
    })

    it('runs an unsaved document, and answers 400 with the graph checks when it is invalid', async () => {
      const draft = ordersFlow(1000, 'draft')
      const answer = await call('POST', '/flows/orders/test', {
        document: draft,
        rawBody: JSON.stringify({ id: 'ord-draft', type: 't', amount: 1 }),
      })
      expect(answer.status).toBe(200)
      expect(answer.body.steps.find((s: { node: string }) => s.node === 'map').output.label).toBe('draft')
      draft.nodes.push({
        id: 'orphan',
        kind: 'transform',
        config: { expression: '$' },
      } as FlowDocument['nodes'][number])
      const invalid = await call('POST', '/flows/orders/test', { document: draft, payload: {} })
      expect(invalid.status).toBe(400)
      expect(invalid.body.error.code).toBe('invalid_flow')
      expect(invalid.body.error.details).toContainEqual(expect.objectContaining({ nodeId: 'orphan' }))
    })

    it('runs a chosen saved version, and answers 404 for an unknown one', async () => {
      const first = await call('POST', '/flows/orders/test', {
        version: 1,
        payload: { id: 'ord-v1', type: 't', amount: 1 },
      })
      expect(first.body.steps.find((s: { node: string }) => s.node === 'map').output.label).toBe('v1')
      expect((await call('POST', '/flows/orders/test', { version: 999, payload: {} })).status).toBe(404)
      expect((await call('POST', '/flows/nope/test', { payload: {} })).status).toBe(404)
    })
  })
})
