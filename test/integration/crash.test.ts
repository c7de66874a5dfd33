import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CONDUIT_ENV, CONDUIT_HOOK_PATH, conduitDelivery, writeConduitFlow } from '../support/conduit-event.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { type ServeProcess, startServeProcess } from '../support/serve-process.ts'

const EVENTS = 2_000
const KILL_AFTER = 1_000
const CONCURRENCY = 16

describe('a crash in the middle of a burst', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mapper-crash-'))
  let mock: DownstreamMock | undefined
  let server: ServeProcess | undefined
  afterAll(async () => {
    await server?.kill('SIGKILL').catch(() => undefined)
    await mock?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('loses no event that got a 202: SIGKILL at half way, restart on the same data directory', async () => {
    mock = await startDownstreamMock()
    const flowsDir = writeConduitFlow(dataDir, { fastRetries: true })
    const env = { ...CONDUIT_ENV, MAPPER_VAR_CRM_BASE_URL: mock.url, MAPPER_ADMIN_TOKEN: 'crash-admin' }
    const start = () => startServeProcess({ flowsDir, dataDir, env, args: ['--lease-ms', '2000'] })
    server = await start()

    const acknowledged = new Map<string, string>() // reportId → eventId
    let failures = 0
    let next = 0
    let killed: Promise<void> | undefined
    const sendOne = async (i: number) => {
      const reportId = `rep-crash-${i}`
      const { body, headers } = conduitDelivery(`crash-${i}`)
      try {
        const response = await fetch(`${server?.url}${CONDUIT_HOOK_PATH}`, { method: 'POST', body, headers })
        const answer = (await response.json()) as { eventId?: string }
        if (response.status === 202 && answer.eventId) acknowledged.set(reportId, answer.eventId)
        else failures++
      } catch {
        failures++ // the connection died with the process: never acknowledged, so the sender would retry
      }
    }
    const burst = async (until: number) => {
      const lanes = Array.from({ length: CONCURRENCY }, async () => {
        while (next < until) {
          const i = next++
          if (i === KILL_AFTER && !killed) killed = server?.kill('SIGKILL')
          await sendOne(i)
        }
      })
      await Promise.all(lanes)
    }
    await burst(KILL_AFTER + CONCURRENCY * 4)
    await killed
    const beforeRestart = acknowledged.size
    server = await start()
    await burst(EVENTS)

    const deadline = Date.now() + 90_000
    const delivered = () => new Set(mock?.requests.map((r) => r.path.replace('/reports/', '')))
    let missing = [...acknowledged.keys()].filter((id) => !delivered().has(id))
    while (missing.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250))
      const seen = delivered()
      missing = missing.filter((id) => !seen.has(id))
    }
    const perKey = new Map<string, number>()
    for (const request of mock.requests) {
      const key = String(request.headers['idempotency-key'])
      perKey.set(key, (perKey.get(key) ?? 0) + 1)
    }
    const duplicateDeliveries = [...perKey.values()].reduce((sum, n) => sum + (n - 1), 0)
    console.log(
      `crash test: ${EVENTS} sent, ${acknowledged.size} acknowledged (${beforeRestart} before the SIGKILL), ` +
        `${failures} not acknowledged, ${mock.requests.length} downstream calls, ${duplicateDeliveries} duplicate deliveries`,
    )
    expect(acknowledged.size).toBeGreaterThan(EVENTS * 0.9)
    expect(missing).toEqual([])
    await server.stop()
  }, 180_000)
})
