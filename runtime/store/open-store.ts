/**
 * @module Picks the store from `--store` / MAPPER_STORE: SQLite in the data directory by default,
 * `sqlite:DIR` for another directory, `postgres://…` or `postgresql://…` for PostgreSQL.
 *
 * Each store is imported only when chosen, so a PostgreSQL runtime never loads SQLite's native module.
 */
import type { Store } from './store.ts'

const POSTGRES_SCHEMES = ['postgres://', 'postgresql://']

export async function openStore(url: string | undefined, dataDir: string): Promise<Store> {
  if (url === undefined || url === '' || url.startsWith('sqlite:')) {
    const dir = url?.startsWith('sqlite:') ? url.slice('sqlite:'.length) : dataDir
    const { openSqliteStore } = await import('./sqlite/index.ts')
    return openSqliteStore({ dir })
  }
  if (POSTGRES_SCHEMES.some((scheme) => url.startsWith(scheme))) {
    const { openPostgresStore } = await import('./postgres/index.ts')
    return openPostgresStore({ url })
  }
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? url
  throw new Error(
    `--store ${scheme}… is not a store this runtime knows: use postgres://user@host:5432/database ` +
      '(or postgresql://), sqlite:DIR, or leave --store out to use SQLite in --data',
  )
}
