/** @module The store contract on a real SQLite file, plus what only SQLite has: WAL, FULL sync, migrations, group commit. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Sqlite from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openWriterConnection } from '../../runtime/store/sqlite/connection.ts'
import { GroupCommitWriter } from '../../runtime/store/sqlite/group-commit-writer.ts'
import { openSqliteStore, type SqliteStore, TOKEN_TOUCH_INTERVAL_MS } from '../../runtime/store/sqlite/index.ts'
import { migrate, readMigrations } from '../../runtime/store/sqlite/migrate.ts'
import type { FromWriter } from '../../runtime/store/sqlite/writer-protocol.ts'
import { prepareWrites } from '../../runtime/store/sqlite/writes.ts'
import type { AcceptedDelivery } from '../../runtime/store/store.ts'
import { delivery, describeStoreContract, replayRun, step, workStart } from './store-contract.ts'

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
    loseWork: async (eventId: string) => {
      // A second connection on the file, as another process would write it: the writer's lock is waited for.
      const db = openWriterConnection(join(dir, 'mapper.db'))
      try {
        db.prepare('DELETE FROM work_items WHERE event_id = ?').run(eventId)
      } finally {
        db.close()
      }
    },
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
    expect(context.store.migrationsApplied).toEqual(['001_initial.sql', '002_admin.sql', '003_canary.sql'])
    await context.store.close()
    const again = await context.reopen()
    expect(again.migrationsApplied).toEqual([])
    const db = new Sqlite(again.file, { readonly: true })
    try {
      expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([
        { version: 1, name: '001_initial.sql' },
        { version: 2, name: '002_admin.sql' },
        { version: 3, name: '003_canary.sql' },
      ])
    } finally {
      db.close()
    }
  })

  it('brings a database of the first schema up to the admin one, keeping its dead letters open', async () => {
    const dir = join(context.dir, 'v1')
    mkdirSync(dir)
    const db = openWriterConnection(join(dir, 'mapper.db'))
    try {
      migrate(db, readMigrations().slice(0, 1))
      db.prepare(`INSERT INTO events (id, request_id, flow_id, flow_version, path, status, received_at, updated_at,
                    size_bytes) VALUES ('evt_old', 'req_old', 'orders', 1, 'orders/events', 'dead', 1, 1, 2)`).run()
      db.prepare(`INSERT INTO dead_letters (id, event_id, flow_id, flow_version, node, error, message, created_at)
                  VALUES ('dl_old', 'evt_old', 'orders', 1, 'crm', '{"category":"non_retriable","message":"400"}',
                          '{"payload":{}}', 1)`).run()
    } finally {
      db.close()
    }
    const store = await openSqliteStore({ dir })
    try {
      expect(store.migrationsApplied).toEqual(['002_admin.sql', '003_canary.sql'])
      expect((await store.listDeadLetters({})).items.map((d) => d.id)).toEqual(['dl_old'])
      expect(await store.listTokens()).toEqual([])
      expect(await store.replayEvent(replayRun('evt_old', { work: [workStart('crm')] }))).toEqual({
        status: 'accepted',
      })
      expect((await store.listDeadLetters({})).items).toEqual([])
    } finally {
      await store.close()
    }
  })

  it('records a token use at most once a minute, across a reopen too, without the request waiting for it', async () => {
    const t0 = Date.UTC(2030, 0, 1)
    const lastUsed = (file: string) => {
      const db = new Sqlite(file, { readonly: true })
      try {
        return db.prepare("SELECT last_used_at FROM tokens WHERE id = 'tok_1'").pluck().get()
      } finally {
        db.close()
      }
    }
    let store = context.store
    await store.createToken({ id: 'tok_1', name: 'ci', role: 'viewer', hash: 'h1', createdBy: null })
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(t0)
      expect((await store.findToken('h1'))?.lastUsedAt).toBe(new Date(t0).toISOString())
      // Later writes commit after the touch: once one is answered, the touch is in.
      await store.writerSettings()
      expect(lastUsed(store.file)).toBe(t0)
      for (let s = 1; s < 60; s += 2) {
        vi.setSystemTime(t0 + s * 1000)
        expect((await store.findToken('h1'))?.lastUsedAt).toBe(new Date(t0).toISOString())
      }
      await store.writerSettings()
      expect(lastUsed(store.file)).toBe(t0)

      await store.close()
      store = await context.reopen()
      vi.setSystemTime(t0 + TOKEN_TOUCH_INTERVAL_MS - 1)
      await store.findToken('h1')
      await store.writerSettings()
      expect(lastUsed(store.file)).toBe(t0)

      vi.setSystemTime(t0 + TOKEN_TOUCH_INTERVAL_MS)
      await store.findToken('h1')
      await store.writerSettings()
      expect(lastUsed(store.file)).toBe(t0 + TOKEN_TOUCH_INTERVAL_MS)
      expect((await store.listTokens())[0]?.lastUsedAt).toBe(new Date(t0 + TOKEN_TOUCH_INTERVAL_MS).toISOString())
    } finally {
      vi.useRealTimers()
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
