/**
 * @module The PostgreSQL the mapper-pg targets store in: a fresh database per target on the server of
 * `--pg` (default the machine's 127.0.0.1:5432), dropped afterwards; and the stored events counted by status.
 */
import pg from 'pg'

export const DEFAULT_PG_SERVER = 'postgres://postgres@127.0.0.1:5432/test'

export interface BenchDatabase {
  url: string
  countEvents(): Promise<Record<string, number>>
  drop(): Promise<void>
}

/** Why PostgreSQL cannot be used, or undefined when it answers. */
export async function postgresProblem(server: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: server, connectionTimeoutMillis: 3_000 })
  try {
    await client.connect()
    await client.query('select 1')
    return undefined
  } catch (error) {
    return `PostgreSQL at ${server} does not answer: ${(error as Error).message}`
  } finally {
    await client.end().catch(() => undefined)
  }
}

export async function createBenchDatabase(server: string): Promise<BenchDatabase> {
  const name = `mapper_bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const admin = new pg.Client({ connectionString: server })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(server)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async countEvents() {
      const client = new pg.Client({ connectionString: url.toString() })
      await client.connect()
      try {
        const { rows } = await client.query<{ status: string; n: string }>(
          'select status, count(*) as n from events group by status',
        )
        return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]))
      } finally {
        await client.end()
      }
    },
    async drop() {
      const client = new pg.Client({ connectionString: server })
      await client.connect()
      await client.query(`drop database if exists ${name} with (force)`)
      await client.end()
    },
  }
}
