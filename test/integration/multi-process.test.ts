/**
 * Scale-out (SPEC §9): three `mapper serve` processes on one PostgreSQL database behind a round-robin sender.
 * A burst of signed events with 10 % of them delivered twice at the same moment to two different processes,
 * and one process killed with SIGKILL half way. Afterwards: every 202 reached the downstream, each dedupe key
 * has exactly one accepted event across the processes, and no work is left leased.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../runtime/store/open-store.ts'
import type { Store, StoredEvent } from '../../runtime/store/store.ts'
import { CONDUIT_ENV, CONDUIT_HOOK_PATH, conduitDelivery, writeConduitFlow } from '../support/conduit-event.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.ts'
import { type ServeProcess, startServeProcess } from '../support/serve-process.ts'

const EVENTS = 5_000
const DUPLICATE_EVERY = 10 // one event in ten is delivered twice, to two processes at once
const PROCESSES = 3
const CONCURRENCY = 24
const KILLED = 1 // which process gets the SIGKILL
const LEASE_MS = 2_000

describe.runIf(await pgAvailable())('three runtimes on one PostgreSQL database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapper-multi-'))
  let database: TestDatabase
  let mock: DownstreamMock
  let store: Store | undefined
  const servers: Array<ServeProcess | undefined> = []
  const extraDatabases: TestDatabase[] = []

  beforeAll(async () => {
    database = await createTestDatabase('multi')
    mock = await startDownstreamMock()
  })

  afterAll(async () => {
    for (const server of servers) await server?.kill('SIGKILL').catch(() => undefined)
    await store?.close()
    await mock?.stop()
    await database?.drop()
    for (const extra of extraDatabases) await extra.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('delivers every acknowledged event once per dedupe key, through a SIGKILL, leaving nothing leased', async () => {
    const flowsDir = writeConduitFlow(dir, { fastRetries: true })
    const env = {
      ...CONDUIT_ENV,
      MAPPER_VAR_CRM_BASE_URL: mock.url,
      MAPPER_ADMIN_TOKEN: 'multi-admin',
      MAPPER_SECRET_KEY: randomBytes(32).toString('base64'),
    }
    // All three start together on the empty database: migrations and the flow file must not race.
    const started = await Promise.all(
      Array.from({ length: PROCESSES }, (_, n) => {
        const dataDir = join(dir, `data-${n}`)
        mkdirSync(dataDir)
        return startServeProcess({
          flowsDir,
          dataDir,
          env,
          args: ['--store', database.url, '--lease-ms', String(LEASE_MS)],
        })
      }),
    )
    servers.push(...started)

    const acknowledged = new Map<string, string>() // reportId → eventId
    const answers = new Map<string, number>()
    let refused = 0
    const alive = () => servers.filter((s): s is ServeProcess => s !== undefined)
    const deliver = async (i: number, to: ServeProcess) => {
      const { body, headers } = conduitDelivery(`multi-${i}`)
      try {
        const response = await fetch(`${to.url}${CONDUIT_HOOK_PATH}`, { method: 'POST', body, headers })
        const answer = (await response.json()) as { eventId?: string }
        answers.set(String(response.status), (answers.get(String(response.status)) ?? 0) + 1)
        if (response.status === 202 && answer.eventId) acknowledged.set(`rep-multi-${i}`, answer.eventId)
      } catch {
        refused++ // the connection died with the killed process: never acknowledged, the sender retries later
      }
    }

    let next = 0
    let killed: Promise<void> | undefined
    const lanes = Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        const i = next++
        if (i === EVENTS / 2 && !killed) {
          const victim = servers[KILLED]
          servers[KILLED] = undefined
          killed = victim?.kill('SIGKILL')
        }
        const targets = alive()
        const first = targets[i % targets.length] as ServeProcess
        if (i % DUPLICATE_EVERY === 0) {
          const second = targets[(i + 1) % targets.length] as ServeProcess
          await Promise.all([deliver(i, first), deliver(i, second)])
        } else await deliver(i, first)
      }
    })
    await Promise.all(lanes)
    await killed

    // The killed process's leases expire and the survivors finish its work.
    const deadline = Date.now() + 120_000
    const delivered = () => new Set(mock.requests.map((r) => r.path.replace('/reports/', '')))
    let missing = [...acknowledged.keys()].filter((id) => !delivered().has(id))
    while (missing.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250))
      const seen = delivered()
      missing = missing.filter((id) => !seen.has(id))
    }

    store = await openStore(database.url, dir)
    let figures = await store.queueFigures(new Date())
    while ((figures.pending > 0 || figures.leased > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250))
      figures = await store.queueFigures(new Date())
    }

    const events: StoredEvent[] = []
    let cursor: string | undefined
    do {
      const page = await store.listEvents({ flow: 'conduit-reports', limit: 500, ...(cursor ? { cursor } : {}) })
      events.push(...page.items)
      cursor = page.nextCursor ?? undefined
    } while (cursor)
    const acceptedPerKey = new Map<string, number>()
    for (const event of events) {
      if (event.status === 'duplicate' || event.status === 'rejected') continue
      const key = (JSON.parse(event.rawBody ?? '{}') as { id: string }).id
      acceptedPerKey.set(key, (acceptedPerKey.get(key) ?? 0) + 1)
    }
    const keysAcceptedTwice = [...acceptedPerKey].filter(([, n]) => n > 1)
    const duplicatesStored = events.filter((e) => e.status === 'duplicate').length
    const perIdempotencyKey = new Map<string, number>()
    for (const request of mock.requests) {
      const key = String(request.headers['idempotency-key'])
      perIdempotencyKey.set(key, (perIdempotencyKey.get(key) ?? 0) + 1)
    }
    const repeatedCalls = [...perIdempotencyKey.values()].reduce((sum, n) => sum + (n - 1), 0)
    console.log(
      `multi-process test: ${EVENTS} events (${EVENTS / DUPLICATE_EVERY} delivered twice) to ${PROCESSES} processes, ` +
        `one SIGKILLed at half way; answers ${JSON.stringify(Object.fromEntries(answers))}, ${refused} cut off; ` +
        `${acknowledged.size} acknowledged, ${missing.length} of them missing downstream; ` +
        `${acceptedPerKey.size} dedupe keys accepted, ${keysAcceptedTwice.length} twice; ${duplicatesStored} stored as ` +
        `duplicates; ${mock.requests.length} downstream calls (${repeatedCalls} repeated after the kill); ` +
        `queue after: ${figures.pending} pending, ${figures.leased} leased`,
    )
    expect(acknowledged.size).toBeGreaterThan(EVENTS * 0.9)
    expect(missing).toEqual([])
    expect(keysAcceptedTwice).toEqual([])
    for (const reportId of acknowledged.keys())
      expect(acceptedPerKey.has(`evt_${reportId.slice('rep-'.length)}`)).toBe(true)
    expect(duplicatesStored).toBeGreaterThanOrEqual(EVENTS / DUPLICATE_EVERY - refused)
    expect(figures).toMatchObject({ pending: 0, leased: 0 })

    for (const server of alive()) expect(await server.stop()).toBe(0)
    servers.length = 0
  }, 300_000)

  it('serves a version deployed through one process from the others, without a restart', async () => {
    const other = await createTestDatabase('deploy')
    // Dropped in afterAll too, should the processes fail to start.
    extraDatabases.push(other)
    const flowsDir = writeConduitFlow(dir, { folder: 'flows-deploy' })
    const env = {
      ...CONDUIT_ENV,
      MAPPER_VAR_CRM_BASE_URL: mock.url,
      MAPPER_ADMIN_TOKEN: 'deploy-admin',
      MAPPER_SECRET_KEY: randomBytes(32).toString('base64'),
    }
    const startOne = (name: string) => {
      const dataDir = join(dir, `deploy-${name}`)
      mkdirSync(dataDir)
      return startServeProcess({ flowsDir, dataDir, env, args: ['--store', other.url] })
    }
    const [a, b] = await Promise.all([startOne('a'), startOne('b')])
    servers.push(a, b)
    try {
      const call = async (server: ServeProcess, method: string, path: string, body?: unknown) => {
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: 'Bearer deploy-admin', 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
        return { status: response.status, body: (await response.json()) as Record<string, unknown> }
      }
      const latest = await call(a, 'GET', '/api/flows/conduit-reports')
      const saved = await call(a, 'PUT', '/api/flows/conduit-reports', {
        ...latest.body,
        version: 2,
        description: 'deployed through process a',
      })
      expect(saved.status).toBe(201)
      const deployed = await call(a, 'POST', '/api/flows/conduit-reports/deploy', { version: 2 })
      expect(deployed.status).toBe(200)

      const seenAt = Date.now()
      let version: unknown
      for (let i = 0; Date.now() - seenAt < 5_000; i++) {
        const { body, headers } = conduitDelivery(`after-deploy-${i}`)
        const answer = await fetch(`${b.url}${CONDUIT_HOOK_PATH}`, { method: 'POST', body, headers })
        const { eventId } = (await answer.json()) as { eventId: string }
        version = (await call(b, 'GET', `/api/events/${eventId}`)).body.flowVersion
        if (version === 2) break
        await new Promise((r) => setTimeout(r, 100))
      }
      console.log(`deploy through process a taken by process b after ${Date.now() - seenAt} ms`)
      expect(version).toBe(2)
      expect(Date.now() - seenAt).toBeLessThan(2_000)
    } finally {
      await a.stop()
      await b.stop()
    }
  }, 120_000)
})
