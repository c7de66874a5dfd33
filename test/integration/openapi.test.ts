import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiRoutes } from '../../runtime/server/api/index.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { readFixture } from '../support/paths.ts'
import {
  ADMIN_TOKEN,
  startTestRuntime,
  stripeHeader,
  type TestRuntime,
  waitForEvent,
} from '../support/runtime-harness.ts'

const CONDUIT_SECRET = 'whsec_openapi_conduit_secret'
const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const
const ROUTER_MISS = 'no such API route'

/** SPEC §6, as written there: every route with its role. */
const SPEC_ROUTES: Array<[string, string, string]> = [
  ['GET', '/api/flows', 'viewer'],
  ['GET', '/api/flows/:id', 'viewer'],
  ['GET', '/api/flows/:id/versions', 'viewer'],
  ['GET', '/api/flows/:id/versions/:v', 'viewer'],
  ['PUT', '/api/flows/:id', 'editor'],
  ['POST', '/api/flows/:id/deploy', 'operator'],
  ['POST', '/api/flows/:id/test', 'editor'],
  ['GET', '/api/events', 'viewer'],
  ['GET', '/api/events/:id', 'viewer'],
  ['GET', '/api/events/:id/lineage', 'viewer'],
  ['POST', '/api/events/:id/replay', 'operator'],
  ['GET', '/api/dead-letters', 'viewer'],
  ['POST', '/api/dead-letters/replay', 'operator'],
  ['GET', '/api/stream', 'viewer'],
  ['GET', '/api/metrics/summary', 'viewer'],
  ['GET', '/api/secrets', 'operator'],
  ['PUT', '/api/secrets/:name', 'operator'],
  ['POST', '/api/tokens', 'admin'],
  ['GET', '/api/audit', 'operator'],
]

/** `/api/flows/:id` and `/api/flows/{id}` both → `/api/flows/{}`: parameter names may differ, shapes may not. */
function shape(path: string): string {
  return path.replace(/:[A-Za-z_]\w*/g, '{}').replace(/\{[^}]*\}/g, '{}')
}

describe('the OpenAPI document, generated from the routes the router mounts', () => {
  let rt: TestRuntime
  let mock: DownstreamMock
  let eventId: string
  let doc: any

  beforeAll(async () => {
    mock = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: ['conduit-reports'],
      secrets: { CONDUIT_WEBHOOK_SECRET: [CONDUIT_SECRET], CRM_API_KEY: ['crm-key'] },
      vars: { CRM_BASE_URL: mock.url },
    })
    const body = readFixture('conduit/report.completed.json')
    const answer = await rt.post('/hooks/conduit/reports', body, {
      'conduit-signature': stripeHeader(CONDUIT_SECRET, body),
    })
    eventId = answer.body.eventId
    await waitForEvent(rt, eventId)
    const response = await fetch(`${rt.url}/api/openapi.json`)
    expect(response.status).toBe(200)
    doc = await response.json()
  })
  afterAll(async () => {
    await rt?.stop()
    await mock?.stop()
  })

  const operations = (): Array<{ method: string; path: string; op: any }> =>
    Object.entries(doc.paths as Record<string, any>).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
    )

  const fill = (path: string): string =>
    path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
      if (name === 'name') return 'OPENAPI_PROBE'
      if (name === 'v' || name === 'version') return '1'
      if (path.startsWith('/api/flows/')) return 'conduit-reports'
      if (path.startsWith('/api/events/')) return eventId
      return 'probe-id'
    })

  it('is an OpenAPI 3.1 document with a bearer security scheme', () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.title).toEqual(expect.any(String))
    expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }))
    expect(doc.security).toEqual([{ bearer: [] }])
  })

  it('lists every mounted route once, with OpenAPI path templates and its role', () => {
    const ops = operations().filter((o) => o.path !== '/api/openapi.json')
    expect(ops).toHaveLength(apiRoutes.length)
    for (const route of apiRoutes) {
      const path = `/api${route.path.replace(/:([A-Za-z_]\w*)/g, '{$1}')}`
      const op = doc.paths[path]?.[route.method]
      expect(op, `${route.method} ${path}`).toBeDefined()
      expect(op.summary).toBe(route.summary)
      expect(['viewer', 'editor', 'operator', 'admin']).toContain(op['x-role'])
      const params = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name)
      expect(params).toEqual([...route.path.matchAll(/:([A-Za-z_]\w*)/g)].map((m) => m[1]))
      if (route.body) expect(op.requestBody.content['application/json'].schema).toEqual(expect.any(Object))
      for (const name of Object.keys(route.query ?? {})) {
        expect(op.parameters).toContainEqual(expect.objectContaining({ name, in: 'query' }))
      }
      expect(op.responses['401']).toBeDefined()
      expect(op.responses['403']).toBeDefined()
      expect(JSON.stringify(op)).not.toMatch(/\/:[A-Za-z]/)
    }
    const ids = operations().map((o) => o.op.operationId)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('tells a router miss from a missing resource (the check below can fail)', async () => {
    const miss = await fetch(`${rt.url}/api/not-a-route`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(miss.status).toBe(404)
    expect((await miss.json()).error.message).toBe(ROUTER_MISS)
  })

  it('answers every path and method it documents (no router 404 for any)', async () => {
    const checked: string[] = []
    for (const { method, path, op } of operations()) {
      const abort = new AbortController()
      const body = method === 'post' || method === 'put' ? '{}' : undefined
      const response = await fetch(`${rt.url}${fill(path)}`, {
        method: method.toUpperCase(),
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body }),
        signal: abort.signal,
      })
      const label = `${method.toUpperCase()} ${path} → ${response.status}`
      if (op.responses['200']?.content?.['text/event-stream']) {
        abort.abort()
        expect(response.status, label).toBe(200)
      } else {
        const text = await response.text()
        expect(response.status, `${label} ${text}`).toBeLessThan(500)
        if (response.status === 404) expect(JSON.parse(text).error.message, label).not.toBe(ROUTER_MISS)
      }
      checked.push(label)
    }
    expect(checked.length).toBe(apiRoutes.length + 1)
  })

  describe('holds every route of SPEC §6 with the SPEC’s role', () => {
    for (const [method, path, role] of SPEC_ROUTES) {
      it(`${method} ${path} (${role})`, () => {
        const found = Object.entries(doc.paths as Record<string, any>).find(
          ([docPath, item]) => shape(docPath) === shape(path) && item[method.toLowerCase()],
        )
        expect(found, `${method} ${path} is not in the document`).toBeDefined()
        expect(found?.[1][method.toLowerCase()]['x-role']).toBe(role)
      })
    }
  })

  it('documents the bodies of the token and secret routes from their schemas', () => {
    const tokenBody = doc.paths['/api/tokens'].post.requestBody.content['application/json'].schema
    expect(tokenBody.required).toEqual(expect.arrayContaining(['role', 'name']))
    expect(tokenBody.properties.role.enum).toEqual(['viewer', 'editor', 'operator', 'admin'])
    const secretBody = doc.paths['/api/secrets/{name}'].put.requestBody.content['application/json'].schema
    expect(secretBody.required).toEqual(['value'])
    expect(secretBody.properties.overlapSec.type).toBe('integer')
    expect(doc.paths['/api/audit'].get.parameters.map((p: any) => p.name)).toEqual(['limit', 'cursor'])
  })
})
