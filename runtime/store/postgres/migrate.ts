/**
 * @module Numbered, forward-only schema migrations: `migrations/NNN_name.sql`, applied once, in one transaction.
 *
 * Several processes may open one empty database at the same moment: each takes the same transaction-level
 * advisory lock first, so one applies the migrations and the others, once it commits, find nothing left to do.
 */
import type pg from 'pg'
import { type Migration, readMigrations } from '../sqlite/migrate.ts'
import { inTransaction } from './connection.ts'

export const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url)

/** The advisory lock key migrations run under: the ASCII of `mapper` and a 1, fixed forever. */
export const MIGRATION_LOCK_KEY = 0x6d61707065720001n

/** The migrations this runtime knows, in order (the same file rules as SQLite's). */
export function readPostgresMigrations(): Migration[] {
  return readMigrations(MIGRATIONS_DIR)
}

/** Applies the migrations the database has not seen; returns the names applied (none when up to date). */
export function migrate(pool: pg.Pool, migrations: Migration[] = readPostgresMigrations()): Promise<string[]> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY.toString()])
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer     NOT NULL PRIMARY KEY,
      name       text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const { rows } = await client.query<{ version: number | null }>(
      'SELECT MAX(version) AS version FROM schema_migrations',
    )
    const current = rows[0]?.version ?? 0
    const newest = migrations.at(-1)?.version ?? 0
    if (current > newest) {
      throw new Error(`the database is at schema version ${current}, newer than this runtime knows (${newest})`)
    }
    const applied: string[] = []
    for (const migration of migrations) {
      if (migration.version <= current) continue
      // Without parameters the query goes as one simple-protocol message, which may hold many statements.
      await client.query(migration.sql)
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ])
      applied.push(migration.name)
    }
    return applied
  })
}
