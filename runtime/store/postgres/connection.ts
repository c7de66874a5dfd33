/** @module The store's connection pool, and the transaction every store method runs in. */
import pg from 'pg'

/** Connections per store: enough for the worker's leases beside a burst of accepts, few enough for many processes. */
export const DEFAULT_POOL_SIZE = 10

/** How many times a transaction PostgreSQL chose as a deadlock victim (or serialization failure) is run again. */
export const TRANSACTION_ATTEMPTS = 3

/**
 * How long a call waits for a connection (a free one from the pool, or a new one to the server) before it
 * fails: a database that does not answer must fail requests, not hold them forever.
 */
export const CONNECT_TIMEOUT_MS = 10_000

/** TCP keepalive, so a connection whose peer vanished without a word (a failover, a NAT) is noticed. */
export const KEEPALIVE_DELAY_MS = 10_000

/** Shown in pg_stat_activity, so an operator sees which connections are the runtime's. */
export const APPLICATION_NAME = 'mapper-studio'

export type Queryable = pg.Pool | pg.PoolClient

/** deadlock_detected, serialization_failure: the transaction was rolled back whole and may simply run again. */
const RETRIABLE_CODES = new Set(['40P01', '40001'])

/** Settings of every connection the store opens, the LISTEN one included. */
export function connectionConfig(url: string, applicationName: string = APPLICATION_NAME): pg.ClientConfig {
  return {
    connectionString: url,
    application_name: applicationName,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
  }
}

export function openPool(url: string, size: number = DEFAULT_POOL_SIZE): pg.Pool {
  const pool = new pg.Pool({ ...connectionConfig(url), max: size })
  // An idle connection the server dropped: the pool discards it and opens another when needed. Without a
  // listener the 'error' event would end the process.
  pool.on('error', () => {})
  return pool
}

/** Runs `job` in one transaction on one connection: COMMIT when it returns, ROLLBACK when it throws. */
export async function inTransaction<T>(pool: pg.Pool, job: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runOnce(pool, job)
    } catch (error) {
      if (attempt >= TRANSACTION_ATTEMPTS || !RETRIABLE_CODES.has(errorCode(error) ?? '')) throw error
    }
  }
}

/** One read-only transaction that sees one snapshot across its statements (a whole event, say). */
export function inReadSnapshot<T>(pool: pg.Pool, job: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return runOnce(pool, job, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
}

async function runOnce<T>(pool: pg.Pool, job: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect()
  const transaction: Transaction = { client, begin, begun: false }
  let broken: Error | undefined
  try {
    const result = await job(beginsOnFirstQuery(transaction))
    if (transaction.begun) await client.query('COMMIT')
    return result
  } catch (error) {
    // Sent even when nothing began (a harmless warning then): a connection that cannot answer is found out here.
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      // The connection itself failed: the pool must not hand it out again.
      broken = rollbackError
    })
    throw error
  } finally {
    client.release(broken)
  }
}

/**
 * A transaction's BEGIN waits for its first query and goes out with it, and a transaction that never
 * queried sends neither BEGIN nor COMMIT. That lets `soleStatement` run a statement as a transaction of
 * its own: one round trip instead of three.
 */
interface Transaction {
  client: pg.PoolClient
  begin: string
  begun: boolean
}

const transactions = new WeakMap<pg.PoolClient, Transaction>()

function beginsOnFirstQuery(transaction: Transaction): pg.PoolClient {
  const { client } = transaction
  const query = (...args: unknown[]) => {
    const run = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>
    if (transaction.begun) return run(...args)
    transaction.begun = true
    // Both queued at once, in this order: pg sends the query as soon as BEGIN is answered.
    const began = run(transaction.begin)
    const queried = run(...args)
    queried.catch(() => {})
    return began.then(() => queried)
  }
  const wrapped = new Proxy(client, {
    get(target, property) {
      if (property === 'query') return query
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  transactions.set(wrapped, transaction)
  return wrapped
}

/**
 * Runs `query` as a transaction of its own (autocommit: no BEGIN, no COMMIT, one round trip) when it is the
 * first query of the caller's `inTransaction`; undefined when the transaction has begun already (or `client`
 * is not one `inTransaction` handed out), and the caller takes its ordinary path. What it writes is
 * committed when it resolves: the caller must write nothing after it, unless it wrote nothing.
 */
export function soleStatement<R extends pg.QueryResultRow>(
  client: pg.PoolClient,
  query: pg.QueryConfig,
): Promise<pg.QueryResult<R>> | undefined {
  const transaction = transactions.get(client)
  if (transaction === undefined || transaction.begun) return undefined
  return transaction.client.query<R>(query)
}

/** The SQLSTATE of a database error (`23505` for a unique violation…), undefined for anything else. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.code : undefined
}
