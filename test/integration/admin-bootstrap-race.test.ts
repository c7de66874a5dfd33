/**
 * Several runtimes started together on one empty PostgreSQL database with the same MAPPER_ADMIN_TOKEN: each
 * finds no token and stores it; all but one then find it stored by another, and every one of them starts.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { bootstrapAdminToken, hashToken } from '../../runtime/server/api/auth.ts'
import { openStore } from '../../runtime/store/open-store.ts'
import type { Store } from '../../runtime/store/store.ts'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.ts'

describe.runIf(await pgAvailable())('the admin token of runtimes starting together', () => {
  let database: TestDatabase | undefined
  const stores: Store[] = []
  afterAll(async () => {
    for (const store of stores) await store.close()
    await database?.drop()
  })

  it('is stored once and every runtime starts', async () => {
    database = await createTestDatabase('bootstrap')
    const url = database.url
    // One after another: the first applies the migrations.
    for (let i = 0; i < 6; i++) stores.push(await openStore(url, '.'))
    for (let round = 0; round < 5; round++) {
      const token = `adm_race_${round}`
      const results = await Promise.allSettled(stores.map((store) => bootstrapAdminToken(store, token)))
      expect(results.filter((r) => r.status === 'rejected')).toEqual([])
      expect(await stores[0]?.findToken(hashToken(token))).toMatchObject({ role: 'admin' })
    }
  })
})
