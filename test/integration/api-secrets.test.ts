import { spawn } from 'node:child_process'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../runtime/model/canonical-json.ts'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { apiRoutes } from '../../runtime/server/api/index.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { REPO_ROOT, readFixture, readFlow } from '../support/paths.ts'
import { ADMIN_TOKEN, startTestRuntime, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'

/** Distinct, random values: any of them found anywhere outside the wire is a leak. */
const unique = (label: string) => `${label}_${randomBytes(12).toString('hex')}`
const V = {
  conduit1: unique('whsec_leak_conduit_one'),
  conduit2: unique('whsec_leak_conduit_two'),
  crm1: unique('crm_leak_key_one'),
  crm2: unique('crm_leak_key_two'),
  video: unique('video_leak_token'),
  appInner: unique('app_leak_token'),
  rotation1: unique('whsec_rotation_one'),
  rotation2: unique('whsec_rotation_two'),
  cliStdin: unique('cli_leak_stdin'),
  cliRotated: unique('cli_leak_env'),
  refusedLong: unique('refused_leak_long'),
  refusedName: unique('refused_leak_name'),
}
const APP_VALUE = `Bearer ${V.appInner}`

/** The value as it may be stored or printed: as it is, and base64 (as in Basic credentials). */
function needles(): string[] {
  return Object.values(V).flatMap((v) => [v, Buffer.from(v).toString('base64')])
}

function expectNoSecret(text: string, where: string): void {
  for (const needle of needles()) expect(text.includes(needle), `a secret value appears in ${where}`).toBe(false)
}

/** Computed here, independently of runtime/signatures. */
function fingerprintOf(value: string): string {
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 12)}`
}

function stripeSign(secret: string, body: string, nowSec = Math.floor(Date.now() / 1000)): string {
  return `t=${nowSec},v1=${createHmac('sha256', secret).update(`${nowSec}.${body}`).digest('hex')}`
}

function leakConduit(): FlowDocument {
  const doc = structuredClone(readFlow('conduit-reports')) as FlowDocument
  doc.id = 'leak-conduit'
  doc.trigger = { path: 'leak/conduit', respond: 'accepted' }
  for (const node of doc.nodes) {
    if (node.kind === 'verify') node.config.secret = { ref: 'LEAK_CONDUIT_SECRET' }
    if (node.kind === 'http') {
      node.config.headers = { 'x-api-key': { ref: 'LEAK_CRM_KEY' } }
      node.config.retry = { delaysMs: [0] }
    }
  }
  return doc
}

function leakVideo(): FlowDocument {
  const doc = structuredClone(readFlow('video-generation')) as FlowDocument
  doc.id = 'leak-video'
  doc.trigger = { path: 'leak/video', respond: 'accepted' }
  for (const node of doc.nodes) {
    if (node.kind === 'verify') node.config.secret = { ref: 'LEAK_VIDEO_TOKEN' }
    if (node.kind === 'http') node.config.headers = { authorization: { ref: 'LEAK_APP_TOKEN' } }
  }
  return doc
}

function rotationFlow(): FlowDocument {
  return {
    schemaVersion: 1,
    id: 'rotation',
    version: 1,
    name: 'Rotation check',
    trigger: { path: 'rotation', respond: 'accepted' },
    nodes: [
      {
        id: 'verify',
        kind: 'verify',
        name: 'Check rot-signature',
        config: { scheme: 'stripe', header: 'rot-signature', secret: { ref: 'ROTATION_SECRET' }, toleranceSec: 300 },
        position: { x: 0, y: 0 },
      },
      { id: 'keep', kind: 'transform', name: 'Keep', config: { expression: '$' }, position: { x: 260, y: 0 } },
    ],
    edges: [{ from: 'verify', port: 'ok', to: 'keep' }],
  } as FlowDocument
}

const SECRET_NAMES = ['LEAK_CONDUIT_SECRET', 'LEAK_CRM_KEY', 'LEAK_VIDEO_TOKEN', 'LEAK_APP_TOKEN', 'ROTATION_SECRET']

describe('secrets through the admin API, with the vault of a real runtime', () => {
  let rt: TestRuntime
  let mock: DownstreamMock
  /** Every answer the test saw: each must be free of secret values. */
  const answers: Array<{ where: string; text: string }> = []

  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${rt.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    answers.push({ where: `${method} ${path} (${response.status})`, text })
    return { status: response.status, body: text ? JSON.parse(text) : null }
  }

  const putSecret = (name: string, value: string, overlapSec?: number) =>
    api('PUT', `/api/secrets/${name}`, { value, ...(overlapSec === undefined ? {} : { overlapSec }) })

  const sendConduit = async (secret: string, fields: { id?: string; reportId?: string } = {}) => {
    const fixture = JSON.parse(readFixture('conduit/report.completed.json'))
    const body = JSON.stringify({
      ...fixture,
      id: fields.id ?? unique('evt_leak'),
      data: { ...fixture.data, reportId: fields.reportId ?? fixture.data.reportId },
    })
    const answer = await rt.post('/hooks/leak/conduit', body, { 'conduit-signature': stripeSign(secret, body) })
    answers.push({ where: `POST /hooks/leak/conduit (${answer.status})`, text: JSON.stringify(answer.body) })
    return answer
  }

  const sendRotation = async (secret: string) => {
    const body = JSON.stringify({ id: unique('evt_rot'), type: 'rotation.check' })
    return rt.post('/hooks/rotation', body, { 'rot-signature': stripeSign(secret, body) })
  }

  const verifyNote = async (eventId: string) => {
    const event = await waitForEvent(rt, eventId)
    return event.steps.find((s: any) => s.node === 'verify')?.note
  }

  const mapper = (args: string[], input: string, env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const { MAPPER_URL: _url, MAPPER_TOKEN: _token, ...inherited } = process.env
      const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/mapper.js'), ...args], {
        cwd: REPO_ROOT,
        env: { ...inherited, MAPPER_URL: rt.url, MAPPER_TOKEN: ADMIN_TOKEN, ...env },
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk) => {
        stdout += chunk
      })
      child.stderr.on('data', (chunk) => {
        stderr += chunk
      })
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr }))
      child.stdin.end(input)
    })

  beforeAll(async () => {
    for (const name of SECRET_NAMES) {
      expect(process.env[name], `${name} must not be set in the test environment`).toBeUndefined()
      expect(process.env[`${name}_PREVIOUS`]).toBeUndefined()
    }
    mock = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: [leakConduit(), leakVideo(), rotationFlow()],
      vars: { CRM_BASE_URL: mock.url, APP_BASE_URL: mock.url },
      // No `secrets`: nodes resolve through the runtime's vault, as in production.
      runtime: { secrets: undefined },
    })
  })
  afterAll(async () => {
    await rt?.stop()
    await mock?.stop()
  })

  it('accepts the old signing secret during a rotation overlap and refuses it after, naming the secret that matched', async () => {
    const first = await putSecret('ROTATION_SECRET', V.rotation1)
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({
      name: 'ROTATION_SECRET',
      fingerprint: fingerprintOf(V.rotation1),
      previous: null,
    })

    const before = await sendRotation(V.rotation1)
    expect(before.status).toBe(202)
    expect(await verifyNote(before.body.eventId)).toMatchObject({ secretFingerprint: fingerprintOf(V.rotation1) })

    const rotated = await putSecret('ROTATION_SECRET', V.rotation2, 2)
    expect(rotated.status).toBe(200)
    expect(rotated.body).toMatchObject({
      fingerprint: fingerprintOf(V.rotation2),
      previous: { fingerprint: fingerprintOf(V.rotation1), validUntil: expect.any(String) },
    })
    const validUntil = Date.parse(rotated.body.previous.validUntil)
    expect(validUntil - Date.now()).toBeLessThanOrEqual(2_000)

    const oldDuring = await sendRotation(V.rotation1)
    const newDuring = await sendRotation(V.rotation2)
    expect(Date.now(), 'the overlap ran out before the test could use it').toBeLessThan(validUntil)
    expect(oldDuring.status).toBe(202)
    expect(newDuring.status).toBe(202)
    expect(await verifyNote(oldDuring.body.eventId)).toMatchObject({
      secretFingerprint: fingerprintOf(V.rotation1),
      secretIndex: 1,
    })
    expect(await verifyNote(newDuring.body.eventId)).toMatchObject({
      secretFingerprint: fingerprintOf(V.rotation2),
      secretIndex: 0,
    })

    // Wait the overlap out (bounded: it is 2 s).
    await new Promise((r) => setTimeout(r, Math.max(0, validUntil - Date.now()) + 100))
    const oldAfter = await sendRotation(V.rotation1)
    expect(oldAfter.status).toBe(401)
    expect(oldAfter.body.error.code).toBe('invalid_signature')
    const newAfter = await sendRotation(V.rotation2)
    expect(newAfter.status).toBe(202)
    expect(await verifyNote(newAfter.body.eventId)).toMatchObject({ secretFingerprint: fingerprintOf(V.rotation2) })

    const listed = (await api('GET', '/api/secrets')).body.find((s: any) => s.name === 'ROTATION_SECRET')
    expect(listed).toMatchObject({ fingerprint: fingerprintOf(V.rotation2), previous: null, source: 'store' })
    const audit = (await api('GET', '/api/audit?limit=500')).body.items.filter(
      (e: any) => e.target === 'secret:ROTATION_SECRET',
    )
    expect(audit.map((e: any) => e.action)).toEqual(['secret.rotate', 'secret.set'])
    expect(audit[0].details).toMatchObject({
      fingerprint: fingerprintOf(V.rotation2),
      previousFingerprint: fingerprintOf(V.rotation1),
      overlapSec: 2,
    })
  })

  it('rejects bad names and values with a 400 that does not repeat the value', async () => {
    const long = await putSecret('LEAK_REFUSED', V.refusedLong + 'x'.repeat(8192))
    expect(long.status).toBe(400)
    expect(long.body.error.message).toMatch(/^value: /)
    const badName = await putSecret('1BAD-NAME', V.refusedName)
    expect(badName.status).toBe(400)
    expect(badName.body.error.message).toMatch(/^name: /)
    const empty = await putSecret('LEAK_REFUSED', '')
    expect(empty.status).toBe(400)
    const overlap = await putSecret('LEAK_REFUSED', V.refusedName, -1)
    expect(overlap.status).toBe(400)
    expect(overlap.body.error.message).toMatch(/^overlapSec: /)
    expect((await api('GET', '/api/secrets')).body.some((s: any) => s.name === 'LEAK_REFUSED')).toBe(false)
  })

  it('sets secrets from the CLI: from stdin, and rotated from an environment variable', async () => {
    const set = await mapper(['secret', 'set', 'LEAK_CLI_SECRET'], `${V.cliStdin}\n`, {})
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toContain(fingerprintOf(V.cliStdin))
    const rotate = await mapper(['secret', 'rotate', 'LEAK_CLI_SECRET', '--from-env', 'NEW_VALUE'], '', {
      NEW_VALUE: V.cliRotated,
    })
    expect(rotate.code, rotate.stderr).toBe(0)
    expect(rotate.stdout).toContain(fingerprintOf(V.cliRotated))
    expect(rotate.stdout).toContain(`previous ${fingerprintOf(V.cliStdin)}`)
    const list = await mapper(['secret', 'list', '--json'], '', {})
    const cli = JSON.parse(list.stdout).find((s: any) => s.name === 'LEAK_CLI_SECRET')
    const validUntil = Date.parse(cli.previous.validUntil) - Date.parse(cli.updatedAt)
    expect(Math.round(validUntil / 1000)).toBe(3600)
    for (const output of [set, rotate, list]) expectNoSecret(output.stdout + output.stderr, 'the CLI output')
  })

  it('never shows a secret value: not in answers, the stream, the log, flow documents or any cell of the database', async () => {
    const stream = new AbortController()
    let streamed = ''
    const streaming = fetch(`${rt.url}/api/stream`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: stream.signal,
    }).then(async (response) => {
      expect(response.status).toBe(200)
      const decoder = new TextDecoder()
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        streamed += decoder.decode(chunk, { stream: true })
      }
    })
    streaming.catch(() => undefined)

    for (const [name, value] of [
      ['LEAK_CONDUIT_SECRET', V.conduit1],
      ['LEAK_CRM_KEY', V.crm1],
      ['LEAK_VIDEO_TOKEN', V.video],
      ['LEAK_APP_TOKEN', APP_VALUE],
    ] as const) {
      const set = await putSecret(name, value)
      expect(set.status).toBe(200)
      expect(set.body).toEqual({
        name,
        fingerprint: fingerprintOf(value),
        updatedAt: expect.any(String),
        updatedBy: 'admin (MAPPER_ADMIN_TOKEN)',
        previous: null,
        source: 'store',
      })
    }

    // Before the rotation: the first values sign and authenticate.
    const one = await sendConduit(V.conduit1)
    expect(one.status).toBe(202)
    await waitForEvent(rt, one.body.eventId)
    const video = readFixture('video/completed.json')
    const videoAnswer = await rt.post('/hooks/leak/video', video, { authorization: `Bearer ${V.video}` })
    expect(videoAnswer.status).toBe(202)
    expect((await waitForEvent(rt, videoAnswer.body.eventId)).status).toBe('completed')

    // Rotate both conduit secrets (the signing one with the default overlap of an hour).
    const rotated = await putSecret('LEAK_CONDUIT_SECRET', V.conduit2)
    expect(rotated.body.previous.fingerprint).toBe(fingerprintOf(V.conduit1))
    expect(Math.round((Date.parse(rotated.body.previous.validUntil) - Date.parse(rotated.body.updatedAt)) / 1000)).toBe(
      3600,
    )
    expect((await putSecret('LEAK_CRM_KEY', V.crm2, 60)).status).toBe(200)

    const old = await sendConduit(V.conduit1)
    const fresh = await sendConduit(V.conduit2)
    expect(old.status).toBe(202)
    expect(fresh.status).toBe(202)
    for (const answer of [old, fresh]) expect((await waitForEvent(rt, answer.body.eventId)).status).toBe('completed')
    mock.script('/reports/rep-leak-dead', [{ status: 400, body: { error: 'rejected by the CRM' } }])
    const dead = await sendConduit(V.conduit2, { reportId: 'rep-leak-dead' })
    expect((await waitForEvent(rt, dead.body.eventId)).status).toBe('dead')
    expect((await sendConduit(unique('whsec_wrong'))).status).toBe(401)

    // The downstream got the values on the wire: the first key before the rotation, the new one after.
    const byEvent = (id: string) => mock.requests.find((r) => String(r.headers['idempotency-key']).startsWith(id))
    expect(byEvent(one.body.eventId)?.headers['x-api-key']).toBe(V.crm1)
    expect(byEvent(old.body.eventId)?.headers['x-api-key']).toBe(V.crm2)
    expect(byEvent(fresh.body.eventId)?.headers['x-api-key']).toBe(V.crm2)
    expect(byEvent(videoAnswer.body.eventId)?.headers.authorization).toBe(APP_VALUE)

    // A test run with signed headers, a replay preview and a real replay.
    const payload = JSON.parse(readFixture('conduit/report.completed.json'))
    const rawBody = JSON.stringify(payload)
    const test = await api('POST', '/api/flows/leak-conduit/test', {
      payload,
      rawBody,
      headers: { 'conduit-signature': stripeSign(V.conduit2, rawBody) },
    })
    expect(test.status).toBe(200)
    const preview = await api('POST', `/api/events/${fresh.body.eventId}/replay`, {
      preview: true,
      reason: 'leak test',
    })
    expect(preview.status).toBe(200)
    const replay = await api('POST', `/api/events/${fresh.body.eventId}/replay`, { reason: 'leak test' })
    expect(replay.status).toBeLessThan(300)
    await waitForEvent(rt, fresh.body.eventId)

    // Every GET route of the API, over every flow, event and version there is.
    const flows: Array<{ id: string }> = (await api('GET', '/api/flows')).body
    const events: Array<{ id: string }> = (await api('GET', '/api/events?limit=500')).body.items
    expect(events.length).toBeGreaterThanOrEqual(10)
    let requested = 0
    for (const route of apiRoutes.filter((r) => r.method === 'get' && !r.stream)) {
      const resource = route.path.split('/')[1]
      const ids = resource === 'flows' ? flows.map((f) => f.id) : resource === 'events' ? events.map((e) => e.id) : []
      const params = [...route.path.matchAll(/:([A-Za-z_]\w*)/g)].map((m) => m[1] as string)
      const paths =
        params.length === 0
          ? [route.path]
          : ids.map((id) => route.path.replace(/:([A-Za-z_]\w*)/g, (_m, name: string) => (name === 'id' ? id : '1')))
      for (const path of paths) {
        const answer = await api('GET', `/api${path}${route.path === '/audit' ? '?limit=500' : ''}`)
        expect(answer.status, path).toBeLessThan(500)
        requested++
      }
    }
    expect(requested).toBeGreaterThan(30)
    await api('GET', '/api/openapi.json')
    await api('GET', '/api/dead-letters?limit=500')
    const metrics = await fetch(`${rt.url}/metrics`)
    answers.push({ where: 'GET /metrics', text: await metrics.text() })

    stream.abort()
    await streaming.catch(() => undefined)
    expect(streamed.length).toBeGreaterThan(0)
    expectNoSecret(streamed, 'GET /api/stream')
    for (const answer of answers) expectNoSecret(answer.text, answer.where)
    expect(answers.some((a) => a.text.includes(fingerprintOf(V.conduit2)))).toBe(true)

    // Flow documents as exported: canonical files of the latest versions, and the files the runtime read.
    for (const flow of flows) {
      const doc = (await api('GET', `/api/flows/${flow.id}`)).body
      expectNoSecret(canonicalJson(doc), `the exported document of ${flow.id}`)
    }

    // The log, and every file of the data directory byte for byte (database, WAL, flows).
    expectNoSecret(readFileSync(rt.logFile, 'utf8'), 'the runtime log')
    for (const file of filesUnder(rt.dataDir)) {
      if (file.endsWith('secret.key')) continue
      expectNoSecret(readFileSync(file).toString('latin1'), file)
    }

    // Every text cell of every table; the secrets' ciphertexts are encrypted, not the values.
    const db = new Database(join(rt.dataDir, 'mapper.db'), { readonly: true, fileMustExist: true })
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
        name: string
      }>
      let cells = 0
      for (const { name } of tables) {
        const columns = (db.prepare(`PRAGMA table_info("${name}")`).all() as Array<{ name: string }>).map((c) => c.name)
        const rows = db.prepare(`SELECT * FROM "${name}"`).raw().all() as unknown[][]
        for (const row of rows) {
          row.forEach((cell, i) => {
            if (typeof cell !== 'string' && !Buffer.isBuffer(cell)) return
            cells++
            expectNoSecret(Buffer.isBuffer(cell) ? cell.toString('latin1') : cell, `${name}.${columns[i]}`)
          })
        }
      }
      expect(cells).toBeGreaterThan(100)
      const stored = db.prepare('SELECT name, ciphertext, fingerprint FROM secrets').all() as Array<{
        name: string
        ciphertext: string
        fingerprint: string
      }>
      expect(stored.length).toBeGreaterThanOrEqual(7)
      for (const secret of stored) expect(secret.ciphertext).toMatch(/^v1:[A-Za-z0-9+/=]+$/)
      expect(stored.map((s) => s.fingerprint)).toContain(fingerprintOf(V.crm1))
    } finally {
      db.close()
    }
  })
})

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })
}
