/** @module Picks the store from `--store` / MAPPER_STORE: SQLite in the data directory by default. */
import { openSqliteStore } from './sqlite/index.ts'
import type { Store } from './store.ts'

export async function openStore(url: string | undefined, dataDir: string): Promise<Store> {
  if (url === undefined || url === '' || url.startsWith('sqlite:')) {
    const dir = url?.startsWith('sqlite:') ? url.slice('sqlite:'.length) : dataDir
    return openSqliteStore({ dir })
  }
  throw new Error(`--store ${url}: this version stores in SQLite only (leave --store out to use --data)`)
}
