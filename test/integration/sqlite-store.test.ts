/** @module The store contract on a real SQLite file, plus what only SQLite has: WAL, FULL sync, migrations, group commit. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openWriterConnection } from '../../runtime/store/sqlite/connection.ts'
import { GroupCommitWriter } from '../../runtime/store/sqlite/group-commit-writer.ts'
import { openSqliteStore, type SqliteStore } from '../../runtime/store/sqlite/index.ts'
import { migrate } from '../../runtime/store/sqlite/migrate.ts'
import type { FromWriter } from '../../runtime/store/sqlite/writer-protocol.ts'
import { prepareWrites } from '../../runtime/store/sqlite/writes.ts'
import type { AcceptedDelivery } from '../../runtime/store/store.ts'
import { delivery, describeStoreContract, step, workStart } from './store-contract.ts'

/** A fresh directory and a store in it; cleanup closes every store opened on it and removes it. */
async function openInTempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'mapper-sqlite-'))
  const opened: SqliteStore[] = []
  const open = async () => {
    const store = await openSqliteStore({ dir })
    opened.push(store)
    return store
  }
  const store = await open()
  return {
    dir,
    store,
    reopen: open,
    cleanup: async () => {
      for (const each of opened) await each.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

describeStoreContract('sqlite', openInTempDir)

describe('sqlite store', () => {
  let context: Awaited<ReturnType<typeof openInTempDir>>

  beforeEach(async () => {
    context = await openInTempDir()
  })

  afterEach(async () => {
    await context.cleanup()
  })

  it('writes in WAL mode with synchronous = FULL and foreign keys on', async () => {
    expect(await context.store.writerSettings()).toEqual({ journalMode: 'wal', synchronous: 2, foreignKeys: true })
    const db = new Sqlite(context.store.file, { readonly: true })
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    } finally {
      db.close()
    }
  })

  it('records the migrations it applied and does not apply them again on reopen', async () => {
    expect(context.store.migrationsApplied).toEqual(['001_initial.sql'])
    await context.store.close()
    const again = await context.reopen()
    expect(again.migrationsApplied).toEqual([])
    const db = new Sqlite(again.file, { readonly: true })
    try {
      expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([
        { version: 1, name: '001_initial.sql' },
      ])
    } finally {
      db.close()
    }
  })

  it('commits 500 concurrent accepts in far fewer than 500 transactions', async () => {
    const before = context.store.committedTransactions
    const results = await Promise.all(
      Array.from({ length: 500 }, () => context.store.accept(delivery({ work: [workStart('map')] }))),
    )
    expect(results.every((r) => r.status === 'accepted')).toBe(true)
    const transactions = context.store.committedTransactions - before
    expect(transactions).toBeGreaterThan(0)
    expect(transactions).toBeLessThan(100)
    expect((await context.store.queueFigures(new Date(Date.now() + 60_000))).pending).toBe(500)
  })

  it('rejects only the promise of a write that failed, whatever batch it landed in', async () => {
    const halfway = delivery({ steps: [step('verify', { startedAt: 'not a time' })] })
    const writes = [delivery(), halfway, delivery()].map((d) => context.store.accept(d))
    const results = await Promise.allSettled(writes)
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(await context.store.getEvent(halfway.eventId)).toBeUndefined()
    expect((await context.store.listEvents({})).items).toHaveLength(2)
  })

  it('creates the data directory when it is missing', async () => {
    const dir = join(context.dir, 'nested', 'data')
    const store = await openSqliteStore({ dir })
    try {
      expect(store.file).toBe(join(dir, 'mapper.db'))
      expect((await store.listEvents({})).items).toEqual([])
    } finally {
      await store.close()
    }
  })
})

describe('sqlite group commit', () => {
  let dir: string
  let db: Sqlite.Database
  let commits: Array<Extract<FromWriter, { type: 'committed' }>>
  let writer: GroupCommitWriter

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mapper-writer-'))
    db = openWriterConnection(join(dir, 'mapper.db'))
    migrate(db)
    commits = []
    writer = new GroupCommitWriter(db, prepareWrites(db), (message) => {
      if (message.type === 'committed') commits.push(message)
    })
  })

  afterEach(() => {
    if (db.open) db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Hands the writer every delivery at once (as the port does when they queued up) and waits for its commit. */
  async function acceptTogether(deliveries: AcceptedDelivery[]) {
    deliveries.forEach((d, index) => {
      writer.receive({ type: 'write', id: index + 1, command: { op: 'accept', delivery: d } })
    })
    await new Promise((resolve) => setImmediate(resolve))
    return commits
  }

  const eventCount = () => db.prepare('SELECT COUNT(*) FROM events').pluck().get()

  it('runs every write that arrived together in one transaction and answers each', async () => {
    const committed = await acceptTogether([delivery(), delivery(), delivery()])
    expect(committed).toHaveLength(1)
    expect(committed[0]?.transactions).toBe(1)
    expect(committed[0]?.replies.map((r) => [r.id, r.ok])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ])
    expect(eventCount()).toBe(3)
  })

  it('fails only the write that threw before writing anything, in the same transaction as the others', async () => {
    const taken = delivery()
    const committed = await acceptTogether([taken, delivery({ eventId: taken.eventId }), delivery()])
    expect(committed).toHaveLength(1)
    expect(committed[0]?.replies.map((r) => r.ok)).toEqual([true, false, true])
    expect(committed[0]?.replies[1]).toMatchObject({ failure: { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' } })
    expect(eventCount()).toBe(2)
  })

  it('undoes a write that failed halfway through alone, and commits the others once', async () => {
    // The event row is written before the bad step time is found.
    const halfway = delivery({ steps: [step('verify', { startedAt: 'not a time' })] })
    const committed = await acceptTogether([delivery(), halfway, delivery({ work: [workStart('map')] })])
    expect(committed).toHaveLength(1)
    expect(committed[0]?.transactions).toBe(1)
    expect(committed[0]?.replies.map((r) => r.ok)).toEqual([true, false, true])
    expect(db.prepare('SELECT COUNT(*) FROM events WHERE id = ?').pluck().get(halfway.eventId)).toBe(0)
    expect(eventCount()).toBe(2)
    expect(db.prepare('SELECT COUNT(*) FROM work_items').pluck().get()).toBe(1)
  })

  it('closes its connection once the writes received before close are committed', async () => {
    const closed = new Promise<void>((resolve) => {
      writer = new GroupCommitWriter(db, prepareWrites(db), (message) => {
        if (message.type === 'committed') commits.push(message)
        if (message.type === 'closed') resolve()
      })
    })
    writer.receive({ type: 'write', id: 1, command: { op: 'accept', delivery: delivery() } })
    writer.receive({ type: 'close' })
    await closed
    expect(commits[0]?.replies).toMatchObject([{ id: 1, ok: true }])
    expect(db.open).toBe(false)
  })
})
