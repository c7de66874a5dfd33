/**
 * @module The MAPPER target: `node bin/mapper.js serve` on a temporary flows and data directory with the
 * conduit flow, and a read-only look at its SQLite store afterwards (every 202 must be a stored event).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Sqlite from 'better-sqlite3'
import { type Child, startChild, waitForHttp } from './children.ts'
import { CONDUIT_SECRET_ENV } from './events.ts'

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..')
const BIN = join(REPO_ROOT, 'bin', 'mapper.js')
const FLOW = join(REPO_ROOT, 'flows', 'conduit-reports.flow.json')
const DATABASE_FILE = 'mapper.db'

/** Whether `mapper serve` exists yet (it is being written beside these benches). */
export function serveAvailable(): { ok: true; help: string } | { ok: false; why: string } {
  const help = spawnSync(process.execPath, [BIN, 'serve', '--help'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  })
  if (help.status === 0 && help.stdout.includes('--flows')) return { ok: true, help: help.stdout }
  return {
    ok: false,
    why: (help.stderr || help.stdout || `exit ${help.status}`).trim().split('\n').slice(0, 3).join(' '),
  }
}

export interface MapperTarget {
  child: Child
  url: string
  dataDir: string
}

export interface MapperStartOptions {
  port: number
  secret: string
  downstream: string
  workDir: string
  /** Keep the flow's own trigger.rateLimit (200/s, burst 400), which otherwise is lifted for the bench. */
  keepRateLimit: boolean
  logLevel: string
  /** `--store` (a postgres:// URL); the embedded SQLite store in the data directory when absent. */
  store?: string
  /** Shared by processes on one store, so that secrets set through one are readable by all. */
  secretKey?: string
}

/** A copy of flows/conduit-reports.flow.json in `dir`, its rate limit lifted unless asked to keep it. */
function writeFlow(dir: string, keepRateLimit: boolean): void {
  const flow = JSON.parse(readFileSync(FLOW, 'utf8')) as { trigger: { rateLimit?: unknown } }
  if (!keepRateLimit) flow.trigger.rateLimit = { perSecond: 1_000_000, burst: 1_000_000 }
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'conduit-reports.flow.json'), `${JSON.stringify(flow, null, 2)}\n`)
}

export async function startMapper(options: MapperStartOptions): Promise<MapperTarget> {
  const flowsDir = join(options.workDir, `mapper-flows-${options.port}`)
  const dataDir = join(options.workDir, `mapper-data-${options.port}`)
  writeFlow(flowsDir, options.keepRateLimit)
  mkdirSync(dataDir, { recursive: true })
  const args = [
    BIN,
    'serve',
    '--flows',
    flowsDir,
    '--schemas',
    join(REPO_ROOT, 'schemas'),
    '--data',
    dataDir,
    '--port',
    String(options.port),
    '--host',
    '127.0.0.1',
    ...(options.store ? ['--store', options.store] : []),
  ]
  const child = startChild('mapper', process.execPath, args, {
    cwd: REPO_ROOT,
    env: {
      [CONDUIT_SECRET_ENV]: options.secret,
      CRM_API_KEY: 'bench-crm-key',
      MAPPER_VAR_CRM_BASE_URL: options.downstream,
      MAPPER_LOG_LEVEL: options.logLevel,
      MAPPER_ADMIN_TOKEN: 'bench-admin-token',
      NODE_ENV: 'production',
      ...(options.secretKey ? { MAPPER_SECRET_KEY: options.secretKey } : {}),
    },
    logFile: join(options.workDir, `mapper-${options.port}.log`),
  })
  const url = `http://127.0.0.1:${options.port}`
  await waitForHttp(`${url}/readyz`, child, 90_000)
  return { child, url, dataDir }
}

/** Event rows by status, read-only (WAL: it sees the last commit and does not disturb the writer). */
export function countEvents(dataDir: string): Record<string, number> {
  const file = join(dataDir, DATABASE_FILE)
  if (!existsSync(file))
    throw new Error(`no ${DATABASE_FILE} in ${dataDir}: the store layout changed, see runtime/store/sqlite/`)
  const db = new Sqlite(file, { readonly: true, fileMustExist: true })
  try {
    const rows = db.prepare('select status, count(*) as n from events group by status').all() as {
      status: string
      n: number
    }[]
    return Object.fromEntries(rows.map((row) => [row.status, row.n]))
  } finally {
    db.close()
  }
}

/** Events that were accepted (whatever happened to them since): neither rejected nor a duplicate. */
export function acceptedCount(byStatus: Record<string, number>): number {
  return Object.entries(byStatus)
    .filter(([status]) => status !== 'rejected' && status !== 'duplicate')
    .reduce((sum, [, n]) => sum + n, 0)
}
