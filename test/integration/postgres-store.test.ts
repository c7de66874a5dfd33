/**
 * @module The store contract on a real PostgreSQL database, plus what only a shared database has: several
 * processes (here: stores) migrating, leasing, claiming and hearing each other's news on one database.
 */
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openStore } from '../../runtime/store/open-store.ts'
import {
  openPostgresStore,
  type PostgresStore,
  type PostgresStoreOptions,
  TOKEN_TOUCH_INTERVAL_MS,
} from '../../runtime/store/postgres/index.ts'
import { readPostgresMigrations } from '../../runtime/store/postgres/migrate.ts'
import { WORK_NEWS_INTERVAL_MS } from '../../runtime/store/postgres/news.ts'
import type { StoreNews, WorkItem } from '../../runtime/store/store.ts'
import { createTestDatabase, pgAvailable } from '../support/postgres.ts'
import { claim, delivery, describeStoreContract, flowDocument, outcome, workStart } from './store-contract.ts'

const available = await pgAvailable()

/** A fresh database and the stores opened on it; cleanup closes them all and drops the database. */
async function openInTestDatabase(options: Omit<PostgresStoreOptions, 'url'> = {}) {
  const database = await createTestDatabase()
  const opened: PostgresStore[] = []
  const open = async (more: Omit<PostgresStoreOptions, 'url'> = {}) => {
    const store = await openPostgresStore({ url: database.url, ...options, ...more })
    opened.push(store)
    return store
  }
  let store: PostgresStore
  try {
    store = await open()
  } catch (error) {
    await database.drop()
    throw error
  }
  /** Runs one query on the database outside any store. */
  const query = async <Row extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    try {
      return (await client.query<Row>(text, values)).rows
    } finally {
      await client.end()
    }
  }
  return {
    database,
    store,
    reopen: () => open(),
    open,
    query,
    loseWork: async (eventId: string) => {
      await query('DELETE FROM work_items WHERE event_id = $1', [eventId])
    },
    cleanup: async () => {
      for (const each of opened) await each.close()
      await database.drop()
    },
  }
}

type Context = Awaited<ReturnType<typeof openInTestDatabase>>

const SECOND = 1_000
const MINUTE = 60 * SECOND
const DAY = 24 * 60 * MINUTE

describe.skipIf(!available)('postgres', () => {
  describeStoreContract('postgres', openInTestDatabase)

  describe('postgres store', () => {
    let context: Context

    beforeEach(async () => {
      context = await openInTestDatabase()
    })

    afterEach(async () => {
      await context.cleanup()
    })

    it('records the migrations it applied and does not apply them again on reopen', async () => {
      const names = readPostgresMigrations().map((m) => m.name)
      expect(names).toEqual(['001_initial.sql', '002_admin.sql', '003_canary.sql'])
      expect(context.store.migrationsApplied).toEqual(names)
      await context.store.close()
      const again = await context.reopen()
      expect(again.migrationsApplied).toEqual([])
      expect(await context.query('SELECT version, name FROM schema_migrations ORDER BY version')).toEqual([
        { version: 1, name: '001_initial.sql' },
        { version: 2, name: '002_admin.sql' },
        { version: 3, name: '003_canary.sql' },
      ])
    })

    it('refuses a database whose schema is newer than it knows', async () => {
      await context.query("INSERT INTO schema_migrations (version, name) VALUES (99, '099_future.sql')")
      await expect(context.open()).rejects.toThrow(/schema version 99/)
    })

    it('leases a crashed store’s item to another store once its short lease expired', async () => {
      const crashed = await context.open({ leaseMs: 300 })
      const other = await context.open()
      await crashed.accept(
        delivery({ receivedAt: new Date(Date.now() - SECOND).toISOString(), work: [workStart('map')] }),
      )
      // No length given: the store's own leaseMs.
      const [first] = await crashed.lease('worker-a', 1, 0, new Date())
      expect(first).toBeDefined()
      expect(Date.parse(first?.leaseExpiresAt ?? '') - Date.now()).toBeLessThanOrEqual(300)
      expect(await other.lease('worker-b', 1, 30_000, new Date())).toEqual([])
      await new Promise((resolve) => setTimeout(resolve, 400))
      const [taken] = await other.lease('worker-b', 1, 30_000, new Date())
      expect(taken).toMatchObject({ id: first?.id, leaseOwner: 'worker-b' })
      await crashed.complete(first as WorkItem, outcome())
      expect(await context.store.getEvent(first?.eventId ?? '')).toMatchObject({ status: 'processing', pendingWork: 1 })
      await other.complete(taken as WorkItem, outcome())
      expect(await context.store.getEvent(first?.eventId ?? '')).toMatchObject({ status: 'completed', pendingWork: 0 })
    })

    it('records a token use at most once a minute across stores, without the request waiting for it', async () => {
      const t0 = Date.UTC(2030, 0, 1)
      const lastUsed = async () =>
        (
          await context.query<{ ms: string | null }>(
            "SELECT (extract(epoch FROM last_used_at) * 1000)::bigint AS ms FROM tokens WHERE id = 'tok_1'",
          )
        )[0]?.ms
      const other = await context.open()
      await context.store.createToken({ id: 'tok_1', name: 'ci', role: 'viewer', hash: 'h1', createdBy: null })
      vi.useFakeTimers({ toFake: ['Date'] })
      try {
        vi.setSystemTime(t0)
        expect((await context.store.findToken('h1'))?.lastUsedAt).toBe(new Date(t0).toISOString())
        await expect.poll(lastUsed).toBe(String(t0))
        for (let s = 1; s < 60; s += 7) {
          vi.setSystemTime(t0 + s * SECOND)
          expect((await context.store.findToken('h1'))?.lastUsedAt).toBe(new Date(t0).toISOString())
          // Another process reads the use this one wrote, and writes none either.
          expect((await other.findToken('h1'))?.lastUsedAt).toBe(new Date(t0).toISOString())
        }
        vi.setSystemTime(t0 + TOKEN_TOUCH_INTERVAL_MS)
        await other.findToken('h1')
        await expect.poll(lastUsed).toBe(String(t0 + TOKEN_TOUCH_INTERVAL_MS))
      } finally {
        vi.useRealTimers()
      }
    })

    it('opens PostgreSQL for postgres:// and postgresql:// store URLs, and names --store for any other', async () => {
      for (const url of [context.database.url, context.database.url.replace(/^postgres:/, 'postgresql:')]) {
        const store = await openStore(url, '/nonexistent')
        try {
          expect(store.kind).toBe('postgres')
        } finally {
          await store.close()
        }
      }
      await expect(openStore('mysql://root:hunter2@db/mapper', '/nonexistent')).rejects.toThrow(/--store mysql:/)
      await expect(openStore('mysql://root:hunter2@db/mapper', '/nonexistent')).rejects.not.toThrow(/hunter2/)
    })

    it('accepts a delivery with one claim in one round trip, and one finding its key held in a transaction that keeps no work', async () => {
      const sent: string[] = []
      const query = pg.Client.prototype.query
      const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args) {
        const [config] = args as unknown as [string | pg.QueryConfig]
        sent.push(typeof config === 'string' ? config : (config.name ?? config.text))
        return (query as (...a: unknown[]) => unknown).apply(this, args) as never
      })
      try {
        const expires = Date.now() + DAY
        const first = delivery({ claims: [claim('ord_rt', expires)], work: [workStart('map')] })
        expect(await context.store.accept(first)).toEqual({ status: 'accepted', eventId: first.eventId })
        expect(sent).toHaveLength(1)
        expect(await context.store.accept(delivery({ work: [workStart('map')] }))).toMatchObject({ status: 'accepted' })
        expect(sent).toHaveLength(2)

        sent.length = 0
        // A second delivery of the key that got past the engine's lookup (another process, at the same time).
        const second = delivery({ claims: [claim('ord_rt', expires)], work: [workStart('map')] })
        const result = await context.store.accept(second)
        expect(result).toEqual({ status: 'duplicate', eventId: second.eventId, duplicateOf: first.eventId })
        expect(sent[0]).toBe(sent.at(-2))
        expect(sent.slice(1, 3)).toEqual(['BEGIN', expect.stringContaining('INSERT INTO dedupe_claims')])
        expect(sent.at(-1)).toBe('COMMIT')
      } finally {
        spy.mockRestore()
      }
      const rows = await context.query<{ id: string; status: string; duplicate_of: string | null; work: number }>(
        `SELECT id, status, duplicate_of, (SELECT count(*)::int FROM work_items w WHERE w.event_id = e.id) AS work
         FROM events e ORDER BY received_at, id`,
      )
      expect(rows.filter((row) => row.status === 'duplicate')).toEqual([
        expect.objectContaining({ status: 'duplicate', work: 0 }),
      ])
      expect(rows.filter((row) => row.work === 1)).toHaveLength(2)
    })

    it('keeps nothing of a one-statement accept that fails: no claim, no work, no news', async () => {
      const store = await context.open({ workNewsIntervalMs: 0 })
      const heard: StoreNews[] = []
      store.subscribe((news) => heard.push(news))
      await store.listening()
      // What a new listener may have missed comes first.
      await vi.waitFor(() => expect(heard).toContainEqual({ kind: 'work' }), { timeout: SECOND })
      heard.length = 0
      const first = delivery({ work: [workStart('map')] })
      await store.accept(first)
      await vi.waitFor(() => expect(heard).toEqual([{ kind: 'work' }]), { timeout: SECOND })
      heard.length = 0
      // The same event id again: its event row cannot be written, so the claim beside it must not stay either.
      const again = { ...first, claims: [claim('ord_failed', Date.now() + DAY)], work: [workStart('crm')] }
      await expect(store.accept(again)).rejects.toThrow(/duplicate key/)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(heard).toEqual([])
      expect(await store.findClaim('orders/dedupe', 'ord_failed', new Date())).toBeUndefined()
      expect((await store.queueFigures(new Date(Date.now() + MINUTE))).pending).toBe(1)
      // The connection that failed is still good for the next delivery.
      for (let i = 0; i < 12; i++) await store.accept(delivery())
    })
  })

  describe('postgres shared by several processes', () => {
    let cleanup: (() => Promise<void>) | undefined

    afterEach(async () => {
      await cleanup?.()
      cleanup = undefined
    })

    /** A fresh database with four stores on it, as four processes would open it. */
    async function fourStores() {
      const context = await openInTestDatabase()
      cleanup = context.cleanup
      const stores = [context.store, ...(await Promise.all([1, 2, 3].map(() => context.open())))]
      return { context, stores }
    }

    it('opens five stores at once on an empty database, migrating it exactly once', async () => {
      const database = await createTestDatabase()
      const stores: PostgresStore[] = []
      cleanup = async () => {
        for (const store of stores) await store.close()
        await database.drop()
      }
      const opened = await Promise.allSettled(Array.from({ length: 5 }, () => openPostgresStore({ url: database.url })))
      for (const result of opened) if (result.status === 'fulfilled') stores.push(result.value)
      expect(opened.map((r) => r.status)).toEqual(Array(5).fill('fulfilled'))
      const applied = stores.map((s) => s.migrationsApplied)
      const names = readPostgresMigrations().map((m) => m.name)
      expect(applied.filter((a) => a.length > 0)).toEqual([names])
      expect(applied.filter((a) => a.length === 0)).toHaveLength(4)
      const client = new pg.Client({ connectionString: database.url })
      await client.connect()
      try {
        const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version')
        expect(rows.map((r) => r.version)).toEqual(names.map((_, i) => i + 1))
      } finally {
        await client.end()
      }
      // Every store works on the one schema.
      await stores[0]?.saveFlowVersion(flowDocument('orders', 1), null)
      expect((await stores[4]?.latestFlowVersion('orders'))?.version).toBe(1)
    })

    it('leases each of 200 items exactly once to four stores leasing in parallel', async () => {
      const { context, stores } = await fourStores()
      const receivedAt = new Date(Date.now() - MINUTE).toISOString()
      const accepts = Array.from({ length: 200 }, (_, i) =>
        stores[i % 4]?.accept(delivery({ receivedAt, work: [workStart('map')] })),
      )
      await Promise.all(accepts)
      const leased = await Promise.all(
        stores.map(async (store, s) => {
          const mine: WorkItem[] = []
          for (;;) {
            const batch = await store.lease(`worker-${s}`, 7, 30_000, new Date())
            if (batch.length === 0) return mine
            mine.push(...batch)
          }
        }),
      )
      const ids = leased.flat().map((item) => item.id)
      expect(ids).toHaveLength(200)
      expect(new Set(ids).size).toBe(200)
      // Each store took a share: the leases really ran side by side.
      expect(leased.filter((mine) => mine.length > 0).length).toBeGreaterThan(1)
      expect(await context.store.lease('worker-x', 10, 30_000, new Date())).toEqual([])
      expect((await context.store.queueFigures(new Date())).leased).toBe(200)
    })

    it('accepts one delivery of a dedupe key across four stores accepting at once; the rest are its duplicates', async () => {
      const { context, stores } = await fourStores()
      const deliveries = Array.from({ length: 40 }, () =>
        delivery({ claims: [claim('ord_shared', Date.now() + DAY)], work: [workStart('map')] }),
      )
      const results = await Promise.all(deliveries.map((d, i) => stores[i % 4]?.accept(d)))
      const winners = results.filter((r) => r?.status === 'accepted')
      expect(winners).toHaveLength(1)
      const winner = winners[0]?.eventId
      const duplicates = results.filter((r) => r?.status === 'duplicate')
      expect(duplicates).toHaveLength(39)
      for (const duplicate of duplicates) expect(duplicate).toMatchObject({ duplicateOf: winner })
      expect(await stores[3]?.findClaim('orders/dedupe', 'ord_shared', new Date())).toBe(winner)
      expect((await context.store.queueFigures(new Date(Date.now() + MINUTE))).pending).toBe(1)
    })

    it('gives each of two keys claimed in opposite orders by concurrent deliveries to one of them whole', async () => {
      const { context, stores } = await fourStores()
      const other = stores[1] as PostgresStore
      const expires = Date.now() + DAY
      const pairs = Array.from({ length: 10 }, (_, i) => [
        delivery({ claims: [claim(`a${i}`, expires), claim(`b${i}`, expires)], work: [workStart('map')] }),
        delivery({ claims: [claim(`b${i}`, expires), claim(`a${i}`, expires)], work: [workStart('map')] }),
      ])
      const results = await Promise.all(
        pairs.flatMap(([first, second]) => [context.store.accept(first!), other.accept(second!)]),
      )
      for (let i = 0; i < 10; i++) {
        const [x, y] = [results[2 * i], results[2 * i + 1]]
        expect([x?.status, y?.status].sort()).toEqual(['accepted', 'duplicate'])
        const winner = x?.status === 'accepted' ? x.eventId : y?.eventId
        expect(await other.findClaim('orders/dedupe', `a${i}`, new Date())).toBe(winner)
        expect(await other.findClaim('orders/dedupe', `b${i}`, new Date())).toBe(winner)
      }
    })

    it('lets a store hear the deploys and new work another store writes, within a second', async () => {
      const { context, stores } = await fourStores()
      const listener = stores[1] as PostgresStore
      const heard: StoreNews[] = []
      listener.subscribe((news) => heard.push(news))
      await listener.listening()
      heard.length = 0
      await context.store.saveFlowVersion(flowDocument('orders', 1), null)
      await context.store.deployFlow('orders', 1)
      await vi.waitFor(() => expect(heard).toContainEqual({ kind: 'deploy', flowId: 'orders', version: 1 }), {
        timeout: SECOND,
      })
      await context.store.accept(delivery({ work: [workStart('map')] }))
      await vi.waitFor(() => expect(heard).toContainEqual({ kind: 'work' }), { timeout: SECOND })
      // Nothing queued, nothing announced.
      heard.length = 0
      await context.store.accept(delivery())
      await context.store.saveFlowVersion(flowDocument('orders', 2), null)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(heard).toEqual([])
    })

    it('announces work queued by complete, retry and replay, but not work that stayed put', async () => {
      const { context, stores } = await fourStores()
      const listener = stores[1] as PostgresStore
      const heard: StoreNews[] = []
      listener.subscribe((news) => heard.push(news))
      await listener.listening()
      const heardAfter = async (write: () => Promise<unknown>) => {
        heard.length = 0
        await write()
        await new Promise((resolve) => setTimeout(resolve, 150))
        return heard.length
      }
      const accepted = delivery({ work: [workStart('map')] })
      expect(await heardAfter(() => context.store.accept(accepted))).toBe(1)
      const later = new Date(Date.now() + MINUTE)
      const [item] = await context.store.lease('worker-a', 1, 30_000, later)
      expect(await heardAfter(() => context.store.complete(item!, outcome({ next: [workStart('crm')] })))).toBe(1)
      const [crm] = await context.store.lease('worker-a', 1, 30_000, later)
      const at = new Date(Date.now() + 5 * MINUTE).toISOString()
      const error = { category: 'retriable', message: '503' } as const
      expect(await heardAfter(() => context.store.retry(crm!, { steps: [], at, attempt: 2, error }))).toBe(1)
      const [again] = await context.store.lease('worker-a', 1, 30_000, new Date(at))
      expect(await heardAfter(() => context.store.complete(again!, outcome()))).toBe(0)
      const run = { eventId: accepted.eventId, flowVersion: 1, steps: [], work: [workStart('map')], deadLetters: [] }
      expect(await heardAfter(() => context.store.replayEvent({ ...run, lineage: {}, at }))).toBe(1)
    })

    it('announces work at most once per interval in a burst, and always when leases are given back', async () => {
      const { context, stores } = await fourStores()
      const listener = stores[1] as PostgresStore
      const heard: StoreNews[] = []
      listener.subscribe((news) => heard.push(news))
      await listener.listening()
      heard.length = 0
      const started = performance.now()
      await Promise.all(Array.from({ length: 100 }, () => context.store.accept(delivery({ work: [workStart('map')] }))))
      const elapsed = performance.now() - started
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(heard.length).toBeGreaterThanOrEqual(1)
      expect(heard.length).toBeLessThanOrEqual(Math.ceil(elapsed / WORK_NEWS_INTERVAL_MS) + 1)

      heard.length = 0
      const leased = await context.store.lease('worker-a', 10, 30_000, new Date(Date.now() + MINUTE))
      await context.store.accept(delivery({ work: [workStart('map')] }))
      expect(await context.store.releaseLeases('worker-a')).toBe(leased.length)
      await vi.waitFor(() => expect(heard).toEqual([{ kind: 'work' }, { kind: 'work' }]), { timeout: SECOND })

      const everyTime = await context.open({ workNewsIntervalMs: 0 })
      heard.length = 0
      for (let i = 0; i < 5; i++) await everyTime.accept(delivery({ work: [workStart('map')] }))
      await vi.waitFor(() => expect(heard).toHaveLength(5), { timeout: SECOND })
    })

    it('listens again after its connection drops, and hears what it may have missed', async () => {
      const { context, stores } = await fourStores()
      const listener = stores[1] as PostgresStore
      const heard: StoreNews[] = []
      listener.subscribe((news) => heard.push(news))
      await listener.listening()
      await context.store.saveFlowVersion(flowDocument('orders', 1), null)
      const terminated = await context.query<{ done: boolean }>(
        `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'mapper-studio news'`,
      )
      expect(terminated).toEqual([{ done: true }])
      // Deployed while nothing listens: heard from the tables once the connection is back.
      await context.store.deployFlow('orders', 1)
      heard.length = 0
      await vi.waitFor(() => expect(heard).toContainEqual({ kind: 'deploy', flowId: 'orders', version: 1 }), {
        timeout: 5 * SECOND,
      })
      await listener.listening()
      heard.length = 0
      await context.store.accept(delivery({ work: [workStart('map')] }))
      await vi.waitFor(() => expect(heard).toContainEqual({ kind: 'work' }), { timeout: SECOND })
    })
  })
})
