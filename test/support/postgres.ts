/** @module Real PostgreSQL for tests: a fresh database per store, dropped afterwards (see TOOLCHAIN.md). */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** The server tests use; each test makes its own database on it. */
export const PG_TEST_URL = process.env.MAPPER_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'

/** How long the availability check waits for the server before it calls it unreachable. */
const CONNECT_TIMEOUT_MS = 3_000

let availability: Promise<boolean> | undefined

/**
 * Whether PostgreSQL tests can run here. Without a server they are skipped with a message — except in CI
 * (`CI=true`), where a missing database must fail the run rather than pass it silently.
 */
export function pgAvailable(): Promise<boolean> {
  availability ??= (async () => {
    const client = new pg.Client({ connectionString: PG_TEST_URL, connectionTimeoutMillis: CONNECT_TIMEOUT_MS })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      return true
    } catch (error) {
      if (process.env.CI === 'true') return true
      const reason = error instanceof Error ? error.message : String(error)
      console.warn(
        `PostgreSQL tests skipped: cannot reach ${redacted(PG_TEST_URL)} (${reason}). Start PostgreSQL ` +
          '(pg_ctlcluster --skip-systemctl-redirect 15 main start) or set MAPPER_TEST_PG',
      )
      return false
    } finally {
      await client.end().catch(() => {})
    }
  })()
  return availability
}

export interface TestDatabase {
  name: string
  url: string
  /** Ends every connection to it and drops it. */
  drop: () => Promise<void>
}

/** A new, empty database with a unique name on the test server (`mapper_test_[label_]<random>`). */
export async function createTestDatabase(label?: string): Promise<TestDatabase> {
  if (label !== undefined && !/^[a-z0-9_]{1,20}$/.test(label)) throw new Error(`not a database label: ${label}`)
  const name = `mapper_test_${label === undefined ? '' : `${label}_`}${randomBytes(6).toString('hex')}`
  await onServer((client) => client.query(`CREATE DATABASE ${name}`))
  const url = new URL(PG_TEST_URL)
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    drop: () => onServer((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  }
}

/** Runs one statement on the server's own database (CREATE and DROP DATABASE cannot run in the target). */
export async function onServer<T>(job: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_TEST_URL })
  client.on('error', () => {})
  await client.connect()
  try {
    return await job(client)
  } finally {
    await client.end()
  }
}

/** The URL without its password, for messages. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(an unparsable MAPPER_TEST_PG)'
  }
}
