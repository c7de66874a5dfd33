/** @module /readyz for a load balancer: ready only with a store that answers, 503 from SIGTERM while webhooks are still taken. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import { afterAll, describe, expect, it } from 'vitest'
import { createAdminApp, READINESS_STORE_TIMEOUT_MS } from '../../runtime/server/admin-app.ts'
import { createLogger } from '../../runtime/server/logger.ts'
import { createMetrics } from '../../runtime/server/metrics.ts'
import { openStore } from '../../runtime/store/open-store.ts'
import type { Store } from '../../runtime/store/store.ts'
import { CONDUIT_ENV, CONDUIT_HOOK_PATH, conduitDelivery, writeConduitFlow } from '../support/conduit-event.ts'
import { type ServeProcess, startServeProcess } from '../support/serve-process.ts'

/** Long enough for a slow machine to see the 503 and get a webhook through before the listener closes. */
const DRAIN_DELAY_MS = 6_000

async function readiness(url: string): Promise<{ status: number; body: { status?: string } }> {
  const response = await fetch(`${url}/readyz`)
  return { status: response.status, body: (await response.json()) as { status?: string } }
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`not within ${timeoutMs} ms`)
}

describe('draining on SIGTERM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapper-readyz-'))
  let server: ServeProcess | undefined
  afterAll(async () => {
    await server?.kill('SIGKILL').catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers /readyz 503 from SIGTERM on, still takes webhooks for the drain delay, then exits 0', async () => {
    const dataDir = join(dir, 'data-drain')
    server = await startServeProcess({
      flowsDir: writeConduitFlow(dir),
      dataDir: mkdirp(dataDir),
      env: { ...CONDUIT_ENV, MAPPER_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS) },
      args: ['--no-workers'],
    })
    const { url } = server
    expect(await readiness(url)).toEqual({ status: 200, body: { status: 'ready' } })

    const exited = new Promise<number | null>((resolve) => server?.child.once('exit', (code) => resolve(code)))
    const signalledAt = Date.now()
    server.child.kill('SIGTERM')
    const draining = await until(async () => {
      const answer = await readiness(url)
      return answer.status === 503 ? answer : undefined
    }, DRAIN_DELAY_MS)
    expect(draining.body).toEqual({ status: 'draining' })

    const delivery = conduitDelivery('during-drain')
    const response = await fetch(`${url}${CONDUIT_HOOK_PATH}`, {
      method: 'POST',
      body: delivery.body,
      headers: delivery.headers,
    })
    const answer = (await response.json()) as { eventId?: string }
    expect(response.status).toBe(202)
    expect(response.headers.get('connection')).toBe('close')
    expect((await readiness(url)).status).toBe(503)

    expect(await exited).toBe(0)
    // The listener stayed open for the delay: the load balancer had that long to take the process out.
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(DRAIN_DELAY_MS - 500)
    server = undefined

    const store = await openStore(undefined, dataDir)
    try {
      expect((await store.getEvent(answer.eventId ?? ''))?.rawBody).toBe(delivery.body)
    } finally {
      await store.close()
    }
  }, 90_000)

  it('stops without the delay on a second signal', async () => {
    server = await startServeProcess({
      flowsDir: writeConduitFlow(dir),
      dataDir: mkdirp(join(dir, 'data-twice')),
      env: { ...CONDUIT_ENV, MAPPER_DRAIN_DELAY_MS: '600000' },
      args: ['--no-workers'],
    })
    const { url, child } = server
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    await until(async () => ((await readiness(url)).status === 503 ? true : undefined), 10_000)
    const secondAt = Date.now()
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(Date.now() - secondAt).toBeLessThan(30_000)
    server = undefined
  }, 90_000)
})

describe('/readyz and the store', () => {
  it('answers 503 "store unavailable" when the store does not answer in time, and ready when it does', async () => {
    let answering = false
    const store = {
      deployedFlows: () => (answering ? Promise.resolve(new Map()) : new Promise<never>(() => undefined)),
    } as unknown as Store
    const app = createAdminApp({
      store,
      api: express.Router(),
      metrics: createMetrics(async () => ({ pending: 0, leased: 0, retrying: 0, deadLetters: 0, oldestDueMs: 0 })),
      logger: createLogger({ level: 'silent' }),
      ready: () => true,
    })
    const listener = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => listener.once('listening', resolve))
    const address = listener.address()
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    try {
      const slow = await readiness(url)
      expect(slow.status).toBe(503)
      expect(slow.body).toMatchObject({
        status: 'store unavailable',
        message: `the store did not answer within ${READINESS_STORE_TIMEOUT_MS} ms`,
      })
      answering = true
      expect(await readiness(url)).toEqual({ status: 200, body: { status: 'ready' } })
    } finally {
      await new Promise((resolve) => listener.close(resolve))
    }
  })
})

/** startServeProcess writes its log into the data directory, so it must exist before serve starts. */
function mkdirp(path: string): string {
  mkdirSync(path, { recursive: true })
  return path
}
