/**
 * The SQLite writer thread answers every write. When an answer cannot be read on the main thread (structured
 * clone gives up on a work payload nested thousands of levels deep), the writes waiting for it fail instead
 * of waiting forever, and the store goes on working.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openSqliteStore, type SqliteStore } from '../../runtime/store/sqlite/index.ts'
import { delivery, flowDocument, workStart } from './store-contract.ts'

function nested(depth: number): unknown {
  let value: unknown = 'bottom'
  for (let i = 0; i < depth; i++) value = { inner: value }
  return value
}

describe('sqlite writer replies', () => {
  let dir: string
  let store: SqliteStore | undefined
  afterEach(async () => {
    await store?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('fails the writes whose reply cannot be read, and keeps serving the next ones', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mapper-writer-replies-'))
    store = await openSqliteStore({ dir })
    await store.saveFlowVersion(flowDocument('orders', 1), null)
    const poisoned = delivery({
      receivedAt: new Date(Date.now() - 60_000).toISOString(),
      work: [workStart('map', nested(2_500))],
    })
    // Deep enough that the lease's answer cannot be read on this thread, shallow enough to be accepted.
    expect((await store.accept(poisoned)).status).toBe('accepted')
    const lease = store.lease('worker-a', 10, 30_000, new Date())
    const outcome = await Promise.race([
      lease.then(
        () => 'answered',
        (error: Error) => error.message,
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), 10_000)),
    ])
    expect(outcome).toMatch(/could not be read|answered/)
    const next = await store.accept(delivery())
    expect(next.status).toBe('completed')
  }, 30_000)
})
