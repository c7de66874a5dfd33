/** @module Numbered, forward-only schema migrations: `migrations/NNN_name.sql`, each applied once, in one transaction. */
import { readdirSync, readFileSync } from 'node:fs'
import type Sqlite from 'better-sqlite3'

export const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url)

const MIGRATION_FILE = /^(\d+)_[\w-]+\.sql$/

export interface Migration {
  version: number
  name: string
  sql: string
}

/** The migrations on disk, in order; a gap or a repeated number is a packaging mistake and fails loudly. */
export function readMigrations(dir: URL = MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = []
  for (const name of readdirSync(dir).sort()) {
    const match = MIGRATION_FILE.exec(name)
    if (!match) continue
    migrations.push({ version: Number(match[1]), name, sql: readFileSync(new URL(name, dir), 'utf8') })
  }
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`migration ${migration.name} is numbered ${migration.version}, expected ${index + 1}`)
    }
  })
  return migrations
}

/** Applies the migrations the database has not seen, all in one transaction; returns the names applied. */
export function migrate(db: Sqlite.Database, migrations: Migration[] = readMigrations()): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`)
  const applied: string[] = []
  // IMMEDIATE: a second process opening the same file waits here instead of applying the same migration twice.
  db.transaction(() => {
    const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null }
    const current = row.version ?? 0
    const newest = migrations.at(-1)?.version ?? 0
    if (current > newest) {
      throw new Error(`the database is at schema version ${current}, newer than this runtime knows (${newest})`)
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
    for (const migration of migrations) {
      if (migration.version <= current) continue
      db.exec(migration.sql)
      record.run(migration.version, migration.name, Date.now())
      applied.push(migration.name)
    }
  }).immediate()
  return applied
}
