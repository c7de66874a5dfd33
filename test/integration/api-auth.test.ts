import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import type { Request } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bootstrapAdminToken, hashToken } from '../../runtime/server/api/auth.ts'
import { apiRoutes } from '../../runtime/server/api/index.ts'
import type { RouteSpec } from '../../runtime/server/api/route.ts'
import { openStore } from '../../runtime/store/open-store.ts'
import type { Role } from '../../runtime/store/store.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { REPO_ROOT, readFixture } from '../support/paths.ts'
import {
  ADMIN_TOKEN,
  startTestRuntime,
  stripeHeader,
  type TestRuntime,
  waitForEvent,
} from '../support/runtime-harness.ts'

const CONDUIT_SECRET = 'whsec_api_auth_conduit_secret'
const ROLES: Role[] = ['viewer', 'editor', 'operator', 'admin']
const RANK: Record<Role, number> = { viewer: 0, editor: 1, operator: 2, admin: 3 }
const run = promisify(execFile)

interface Answer {
  status: number
  body: any
  text: string
}

/** A minimal body for each write route, enough to get past the role check into the handler. */
const BODIES: Record<string, unknown> = {
  'put /flows/:id': {},
  'post /flows/:id/deploy': { version: 1 },
  'post /flows/:id/test': { payload: {} },
  'post /events/:id/replay': { reason: 'role matrix' },
  'post /dead-letters/replay': { reason: 'role matrix', flow: 'no-such-flow' },
  'put /secrets/:name': { value: 'role-matrix-value' },
  'post /tokens': { role: 'viewer', name: 'role matrix' },
}

function bodyFor(route: RouteSpec): unknown {
  return BODIES[`${route.method} ${route.path}`] ?? (route.method === 'post' || route.method === 'put' ? {} : undefined)
}

function neededRole(route: RouteSpec, body: unknown): Role {
  return typeof route.role === 'function'
    ? route.role({ body, query: {}, params: {} } as unknown as Request)
    : route.role
}

describe('the admin API role matrix and tokens, over real HTTP on a real SQLite file', () => {
  let rt: TestRuntime
  let mock: DownstreamMock
  let eventId: string
  const tokens = {} as Record<Role, string>

  const call = async (
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
    stream = false,
  ): Promise<Answer> => {
    const abort = new AbortController()
    const response = await fetch(`${rt.url}/api${path}`, {
      method: method.toUpperCase(),
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: abort.signal,
    })
    if (stream && response.ok) {
      // A server-sent event stream never ends: its status is the answer.
      abort.abort()
      return { status: response.status, body: null, text: '' }
    }
    const text = await response.text()
    let parsed: unknown = null
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      parsed = text
    }
    return { status: response.status, body: parsed, text }
  }

  const fillPath = (route: RouteSpec): string =>
    route.path.replace(/:([A-Za-z_]\w*)/g, (_m, name: string) => {
      const resource = route.path.split('/')[1]
      if (name === 'name') return 'ROLE_MATRIX_SECRET'
      if (name === 'v' || name === 'version') return '1'
      if (resource === 'flows') return 'conduit-reports'
      if (resource === 'events') return eventId
      if (resource === 'tokens') return 'tok_not_a_token'
      return '1'
    })

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
    expect(answer.status).toBe(202)
    eventId = answer.body.eventId
    await waitForEvent(rt, eventId)
    for (const role of ROLES) {
      const made = await call('post', '/tokens', ADMIN_TOKEN, { role, name: `matrix ${role}` })
      expect(made.status).toBe(201)
      expect(made.body).toMatchObject({ role, name: `matrix ${role}`, id: expect.stringMatching(/^tok_/) })
      tokens[role] = made.body.token
    }
  })
  afterAll(async () => {
    await rt?.stop()
    await mock?.stop()
  })

  it('declares every route once, with a role', () => {
    const keys = apiRoutes.map((r) => `${r.method} ${r.path}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(apiRoutes.length).toBeGreaterThanOrEqual(19)
  })

  for (const route of apiRoutes) {
    const label = `${route.method.toUpperCase()} /api${route.path}`
    describe(label, () => {
      it('answers 401 without a token', async () => {
        const answer = await call(route.method, fillPath(route), undefined, bodyFor(route), route.stream)
        expect(answer.status).toBe(401)
        expect(answer.body.error.code).toBe('unauthorized')
      })
      for (const role of ROLES) {
        const needed = neededRole(route, bodyFor(route))
        const allowed = RANK[role] >= RANK[needed]
        it(`${allowed ? 'lets a' : 'answers 403 to a'} ${role} token (the route needs ${needed})`, async () => {
          const answer = await call(route.method, fillPath(route), tokens[role], bodyFor(route), route.stream)
          if (allowed) {
            expect([401, 403], `${label} as ${role}: ${answer.text}`).not.toContain(answer.status)
            expect(answer.status, `${label} as ${role}: ${answer.text}`).toBeLessThan(500)
          } else {
            expect(answer.status, `${label} as ${role}: ${answer.text}`).toBe(403)
            expect(answer.body.error.code).toBe('forbidden')
          }
        })
      }
    })
  }

  it('lets an editor preview a replay but not replay for real', async () => {
    const preview = await call('post', `/events/${eventId}/replay`, tokens.editor, {
      preview: true,
      reason: 'what would change',
    })
    expect(preview.status, preview.text).toBe(200)
    const real = await call('post', `/events/${eventId}/replay`, tokens.editor, { reason: 'for real' })
    expect(real.status).toBe(403)
    const asOperator = await call('post', `/events/${eventId}/replay`, tokens.operator, { reason: 'for real' })
    expect([401, 403]).not.toContain(asOperator.status)
    expect(asOperator.status, asOperator.text).toBeLessThan(300)
  })

  it('checks the role before whether the thing asked for exists', async () => {
    expect((await call('put', '/flows/no-such-flow', tokens.viewer, {})).status).toBe(403)
    expect((await call('post', '/flows/no-such-flow/deploy', tokens.editor, { version: 1 })).status).toBe(403)
    expect((await call('post', '/events/evt_none/replay', tokens.viewer, { reason: 'x' })).status).toBe(403)
    expect((await call('delete', '/tokens/tok_none', tokens.operator)).status).toBe(403)
    expect((await call('delete', '/tokens/tok_none', tokens.admin)).status).toBe(404)
  })

  it('answers 401 to an unknown token and to a malformed Authorization header', async () => {
    expect((await call('get', '/flows', 'mst_not-a-real-token')).status).toBe(401)
    const basic = await fetch(`${rt.url}/api/flows`, { headers: { authorization: `Basic ${ADMIN_TOKEN}` } })
    expect(basic.status).toBe(401)
  })

  it('answers 401 to a revoked token, and 404 when revoking it again', async () => {
    const made = await call('post', '/tokens', ADMIN_TOKEN, { role: 'operator', name: 'to revoke' })
    expect(made.status).toBe(201)
    expect((await call('get', '/flows', made.body.token)).status).toBe(200)
    const revoked = await call('delete', `/tokens/${made.body.id}`, ADMIN_TOKEN)
    expect(revoked.status).toBe(200)
    expect(revoked.body).toEqual({ id: made.body.id, revoked: true })
    const after = await call('get', '/flows', made.body.token)
    expect(after.status).toBe(401)
    expect(after.body.error.code).toBe('unauthorized')
    expect((await call('delete', `/tokens/${made.body.id}`, ADMIN_TOKEN)).status).toBe(404)
    const listed = (await call('get', '/tokens', ADMIN_TOKEN)).body.find((t: any) => t.id === made.body.id)
    expect(listed.revokedAt).toEqual(expect.any(String))
  })

  it('rejects a token body with a 400 that names the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ role: 'root', name: 'x' }, 'role'],
      [{ name: 'x' }, 'role'],
      [{ role: 'viewer', name: '' }, 'name'],
      [{ role: 'viewer', name: 'n'.repeat(101) }, 'name'],
      [{ role: 'viewer' }, 'name'],
      [{ role: 'viewer', name: 'x', extra: 1 }, 'extra'],
    ]
    for (const [body, field] of cases) {
      const answer = await call('post', '/tokens', ADMIN_TOKEN, body)
      expect(answer.status, JSON.stringify(body)).toBe(400)
      expect(answer.body.error.code).toBe('invalid_body')
      expect(answer.body.error.message).toMatch(new RegExp(`^${field}: `))
    }
    const role = await call('post', '/tokens', ADMIN_TOKEN, { role: 'root', name: 'x' })
    expect(role.body.error.message).toContain('viewer, editor, operator, admin')
  })

  it('lists tokens without the tokens or their hashes', async () => {
    const answer = await call('get', '/tokens', ADMIN_TOKEN)
    expect(answer.status).toBe(200)
    expect(answer.body.map((t: any) => t.name)).toEqual(expect.arrayContaining(['matrix viewer', 'matrix admin']))
    for (const token of [ADMIN_TOKEN, ...Object.values(tokens)]) {
      expect(answer.text).not.toContain(token)
      expect(answer.text).not.toContain(createHash('sha256').update(token).digest('hex'))
    }
    for (const entry of answer.body) {
      expect(Object.keys(entry).sort()).toEqual([
        'createdAt',
        'createdBy',
        'id',
        'lastUsedAt',
        'name',
        'revokedAt',
        'role',
      ])
    }
  })

  it('audits token changes with the caller’s name and never the token', async () => {
    const audit = await call('get', '/audit?limit=500', ADMIN_TOKEN)
    expect(audit.status).toBe(200)
    const creates = audit.body.items.filter((e: any) => e.action === 'token.create')
    expect(creates.length).toBeGreaterThanOrEqual(4)
    expect(creates).toContainEqual(
      expect.objectContaining({
        actor: 'admin (MAPPER_ADMIN_TOKEN)',
        target: expect.stringMatching(/^token:tok_/),
        details: { name: 'matrix viewer', role: 'viewer' },
      }),
    )
    expect(audit.body.items.some((e: any) => e.action === 'token.revoke')).toBe(true)
    for (const token of [ADMIN_TOKEN, ...Object.values(tokens)]) expect(audit.text).not.toContain(token)
  })

  it('pages the audit log with a cursor and rejects a bad limit', async () => {
    const first = await call('get', '/audit?limit=2', tokens.operator)
    expect(first.body.items).toHaveLength(2)
    expect(first.body.nextCursor).toEqual(expect.any(String))
    const second = await call(
      'get',
      `/audit?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      tokens.operator,
    )
    expect(second.body.items.length).toBeGreaterThan(0)
    const ids = new Set(first.body.items.map((e: any) => e.id))
    for (const entry of second.body.items) expect(ids.has(entry.id)).toBe(false)
    expect((await call('get', '/audit?limit=0', tokens.operator)).status).toBe(400)
    expect((await call('get', '/audit?limit=many', tokens.operator)).status).toBe(400)
  })

  it('keeps tokens only as hashes: no column of the SQLite file holds a token', async () => {
    const db = new Database(join(rt.dataDir, 'mapper.db'), { readonly: true, fileMustExist: true })
    try {
      const all = [ADMIN_TOKEN, ...Object.values(tokens)]
      const hashes = new Set(
        (db.prepare('SELECT hash FROM tokens').all() as Array<{ hash: string }>).map((r) => r.hash),
      )
      for (const token of all) expect(hashes.has(createHash('sha256').update(token).digest('hex'))).toBe(true)
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
      let cells = 0
      for (const { name } of tables) {
        const rows = db
          .prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`)
          .raw()
          .all() as unknown[][]
        for (const row of rows) {
          for (const cell of row) {
            if (cell === null || typeof cell === 'number' || typeof cell === 'bigint') continue
            const text = Buffer.isBuffer(cell) ? cell.toString('latin1') : String(cell)
            cells++
            for (const token of all) expect(text.includes(token), `${name} holds a token`).toBe(false)
          }
        }
      }
      expect(cells).toBeGreaterThan(0)
    } finally {
      db.close()
    }
  })

  it('accepts the admin token from MAPPER_ADMIN_TOKEN', async () => {
    const answer = await call('get', '/tokens', ADMIN_TOKEN)
    expect(answer.status).toBe(200)
    expect(answer.body.find((t: any) => t.name === 'admin (MAPPER_ADMIN_TOKEN)')).toMatchObject({ role: 'admin' })
  })

  it('makes a first admin token on the first start of an empty store, and none on later starts', async () => {
    const fresh = await startTestRuntime({ flows: [], runtime: { adminToken: undefined } })
    try {
      const first = fresh.runtime.createdAdminToken
      expect(first).toMatch(/^mst_/)
      const answer = await fetch(`${fresh.url}/api/tokens`, { headers: { authorization: `Bearer ${first}` } })
      expect(answer.status).toBe(200)
      expect(await answer.json()).toEqual([expect.objectContaining({ name: 'first admin', role: 'admin' })])
      expect(await bootstrapAdminToken(fresh.runtime.store, undefined)).toBeUndefined()
    } finally {
      await fresh.stop()
    }
  })

  describe('mapper token', () => {
    const mapper = (args: string[], env: Record<string, string> = {}) => {
      const { MAPPER_URL: _url, MAPPER_TOKEN: _token, ...inherited } = process.env
      return run(process.execPath, [join(REPO_ROOT, 'bin/mapper.js'), ...args], {
        cwd: REPO_ROOT,
        env: { ...inherited, ...env },
        timeout: 30_000,
      })
    }

    it('creates a token straight in a data directory, with no server, and prints it once', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mapper-token-cli-'))
      try {
        const { stdout, stderr } = await mapper([
          'token',
          'create',
          '--role',
          'operator',
          '--name',
          'ci',
          '--data',
          dir,
        ])
        const token = stdout.trim()
        expect(token).toMatch(/^mst_\S+$/)
        expect(stderr).toContain('shown once')
        const store = await openStore(undefined, dir)
        try {
          expect(await store.findToken(hashToken(token))).toMatchObject({ name: 'ci', role: 'operator' })
          const audit = await store.listAudit({})
          expect(audit.items[0]).toMatchObject({ actor: 'cli', action: 'token.create' })
        } finally {
          await store.close()
        }
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })

    it('creates, lists and revokes through a running runtime’s API', async () => {
      const env = { MAPPER_URL: rt.url, MAPPER_TOKEN: ADMIN_TOKEN }
      const made = await mapper(['token', 'create', '--role', 'viewer', '--name', 'from cli', '--json'], env)
      const issued = JSON.parse(made.stdout)
      expect(issued).toMatchObject({ role: 'viewer', name: 'from cli', token: expect.stringMatching(/^mst_/) })
      expect((await call('get', '/flows', issued.token)).status).toBe(200)
      const listed = await mapper(['token', 'list'], env)
      expect(listed.stdout).toContain(issued.id)
      expect(listed.stdout).not.toContain(issued.token)
      await mapper(['token', 'revoke', issued.id], env)
      expect((await call('get', '/flows', issued.token)).status).toBe(401)
    })

    it('exits 1 with the API’s message when the role is too small', async () => {
      const failed = await mapper(['token', 'list', '--server', rt.url, '--token', tokens.operator]).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      )
      expect(failed?.code).toBe(1)
      expect(failed?.stderr).toContain('403 forbidden')
    })
  })
})
