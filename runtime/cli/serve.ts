/** @module `mapper serve`: flow documents become live webhook endpoints, with the editor at `/`. */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Command, Option } from 'commander'
import { createLogger } from '../server/logger.ts'
import { startRuntime } from '../server/runtime.ts'
import { openStore } from '../store/open-store.ts'

const EDITOR_DIR = fileURLToPath(new URL('../../dist/', import.meta.url))

export interface ServeOptions {
  flows: string
  schemas: string
  data: string
  store?: string
  port: number
  host: string
  var: string[]
  queueHighWater?: number
  leaseMs?: number
  workers: boolean
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the runtime: webhook endpoints, workers, admin API and the editor')
    .option('--flows <dir>', 'flow documents to load and deploy at start', 'flows')
    .option('--schemas <dir>', 'event schemas', 'schemas')
    .option('--data <dir>', 'data directory of the embedded SQLite store', '.mapper')
    .addOption(new Option('--store <url>', 'store URL (postgres://…); default: SQLite in --data').env('MAPPER_STORE'))
    .addOption(new Option('--port <n>', 'port').default(8080).argParser(Number).env('PORT'))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--var <name=value>', 'a $vars value for expressions (repeatable)', collect, [])
    .addOption(new Option('--queue-high-water <n>', 'queue depth above which webhooks get 503').argParser(Number))
    .addOption(new Option('--lease-ms <n>', 'how long a worker holds a work item').argParser(Number))
    .option('--no-workers', 'ingest only: run no workers in this process')
    .action(async (options: ServeOptions) => {
      await serve(options)
    })
}

async function serve(options: ServeOptions): Promise<void> {
  const logger = createLogger()
  if (!options.store) mkdirSync(options.data, { recursive: true })
  const store = await openStore(options.store, options.data)
  const runtime = await startRuntime({
    store,
    flowsDir: options.flows,
    schemasDir: options.schemas,
    port: options.port,
    host: options.host,
    logger,
    vars: parseVars(options.var),
    editorDir: EDITOR_DIR,
    ...(process.env.MAPPER_ADMIN_TOKEN ? { adminToken: process.env.MAPPER_ADMIN_TOKEN } : {}),
    ...(options.store ? {} : { dataDir: options.data }),
    workers: options.workers,
    ...(options.queueHighWater === undefined ? {} : { queueHighWater: options.queueHighWater }),
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
  })
  const hooks = runtime.registry
    .deployed()
    .map((f) => `  POST ${runtime.url}/hooks/${f.doc.trigger.path}  →  ${f.doc.id} v${f.doc.version}`)
  process.stderr.write(
    [
      '',
      `Mapper Studio is running: ${runtime.url}/`,
      ...(runtime.createdAdminToken
        ? [
            `Admin token (shown once, keep it): ${runtime.createdAdminToken}`,
            `Sign in: ${runtime.url}/flows?token=${runtime.createdAdminToken}`,
          ]
        : []),
      ...(hooks.length
        ? ['Webhooks:', ...hooks]
        : ['No flows deployed: add <id>.flow.json files to the flows directory.']),
      '',
    ].join('\n'),
  )
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down')
    runtime.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

function parseVars(pairs: string[]): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new Error(`--var wants NAME=value, got "${pair}"`)
    vars[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return vars
}
