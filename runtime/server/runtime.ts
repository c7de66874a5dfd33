/**
 * @module Wires one runtime: store, deployed flows, webhook ingress, admin app, workers, retention, shutdown.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { FlowRegistry } from '../deploy/flow-registry.ts'
import { type SyncReport, syncFlowFiles } from '../deploy/sync-flow-files.ts'
import type { EngineServices } from '../engine/types.ts'
import { schemaDirectory } from '../files/schema-directory.ts'
import { nodeKinds } from '../nodes/index.ts'
import { envVars } from '../secrets/env-secrets.ts'
import { createSecretCipher, loadSecretKey, SECRET_KEY_ENV } from '../secrets/secret-cipher.ts'
import { SecretVault } from '../secrets/secret-vault.ts'
import type { Store } from '../store/store.ts'
import { FlowWorker } from '../worker/flow-worker.ts'
import { createHttpClient } from '../worker/http-client.ts'
import { createAdminApp } from './admin-app.ts'
import { bootstrapAdminToken } from './api/auth.ts'
import { createApiRouter } from './api/index.ts'
import { EventBus } from './event-bus.ts'
import { createHookHandler, HOOKS_PREFIX } from './hooks.ts'
import { createLogger, type Logger } from './logger.ts'
import { createMetrics, type RuntimeMetrics } from './metrics.ts'
import { PendingClaims } from './pending-claims.ts'
import { RecentFigures } from './recent-figures.ts'
import { RetentionJob } from './retention-job.ts'
import { warnOfMissingSettings } from './start-warnings.ts'
import { followStoreNews } from './store-news.ts'
import { DEFAULT_RECONCILE_AFTER_MS, unreconciledCounts } from './unreconciled-count.ts'

export const DEFAULT_QUEUE_HIGH_WATER = 100_000
const SHUTDOWN_GRACE_MS = 5_000

export interface RuntimeOptions {
  store: Store
  flowsDir?: string
  schemasDir: string
  port: number
  host: string
  logger?: Logger
  vars?: Record<string, string>
  queueHighWater?: number
  leaseMs?: number
  workerConcurrency?: number
  /** Run no workers (ingest only), for tests and split deployments. */
  workers?: boolean
  /** Directory of the built editor, served at `/`. */
  editorDir?: string
  /** MAPPER_ADMIN_TOKEN: the admin token scripts use; without it, an empty store gets one, printed once. */
  adminToken?: string
  /** Where `secret.key` lives when MAPPER_SECRET_KEY is not set (the SQLite data directory). */
  dataDir?: string
  /** Secret values for tests, in place of the vault. */
  secrets?: (name: string) => string[]
  now?: () => number
  /** Serve HTTPS (TLS 1.2 and 1.3 only) with this PEM certificate chain and key, instead of plain HTTP. */
  tls?: TlsFiles
  /** An open event this old (ms) is unreconciled; DEFAULT_RECONCILE_AFTER_MS when absent. */
  reconcileAfterMs?: number
}

export interface TlsFiles {
  cert: string | Buffer
  key: string | Buffer
}

/** The oldest TLS version the HTTPS listener accepts: 1.0 and 1.1 are deprecated (RFC 8996). */
export const TLS_MIN_VERSION = 'TLSv1.2'

export interface StopOptions {
  /**
   * How long /readyz answers 503 (draining) while webhooks are still taken, before the listener closes, so
   * that a load balancer takes this process out first. A later `stop()` with a shorter delay cuts it short.
   */
  drainDelayMs?: number
}

export interface Runtime {
  url: string
  server: Server
  store: Store
  registry: FlowRegistry
  metrics: RuntimeMetrics
  logger: Logger
  syncReports: SyncReport[]
  /** The admin token made on this first start, to print once. */
  createdAdminToken?: string
  vault: SecretVault
  /** Graceful: report draining, stop taking webhooks, finish or release leases, close the store. */
  stop(options?: StopOptions): Promise<void>
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const logger = options.logger ?? createLogger()
  const { store } = options
  const now = options.now ?? Date.now
  const schemas = schemaDirectory(options.schemasDir)
  const syncReports = options.flowsDir ? await syncFlowFiles(store, options.flowsDir, nodeKinds, schemas) : []
  for (const report of syncReports) {
    if (report.action === 'invalid')
      logger.error({ path: report.path, problems: report.problems }, 'flow file not deployed: invalid')
    else
      logger.info(
        { path: report.path, flowId: report.flowId, flowVersion: report.version, action: report.action },
        'flow file loaded',
      )
  }
  const registry = new FlowRegistry(store, nodeKinds, schemas)
  await registry.refresh()

  if (store.kind === 'postgres' && !process.env[SECRET_KEY_ENV])
    logger.warn(
      `${SECRET_KEY_ENV} is not set: this process keeps its own key in its data directory, so secrets set through ` +
        'another process on this database cannot be read here; give every process the same key',
    )
  const vault = new SecretVault(store, createSecretCipher(loadSecretKey(process.env, options.dataDir)), now)
  await vault.refresh()
  vault.start()
  const createdAdminToken = await bootstrapAdminToken(store, options.adminToken)
  const bus = new EventBus()
  const figures = new RecentFigures()
  const http = createHttpClient()
  const services: EngineServices = {
    now,
    vars: { ...envVars(), ...options.vars },
    secret: options.secrets ?? ((name) => vault.values(name)),
    claim: async () => ({ claimed: false }),
    fetch: (request) => http.fetch(request),
  }
  warnOfMissingSettings(registry, services, logger)
  let queueDepth = 0
  const reconcileAfterMs = options.reconcileAfterMs ?? DEFAULT_RECONCILE_AFTER_MS
  const metrics = createMetrics(
    async () => {
      const figures = await store.queueFigures(new Date(now()))
      queueDepth = figures.pending
      return figures
    },
    unreconciledCounts({ store, registry, afterMs: reconcileAfterMs, now }),
  )
  const worker = new FlowWorker(
    { store, registry, services, metrics, figures, bus, logger },
    {
      owner: `worker-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
      ...(options.workerConcurrency === undefined ? {} : { concurrency: options.workerConcurrency }),
    },
  )
  const stopFollowingNews = followStoreNews({ store, registry, wakeWorker: () => worker.wake(), bus, logger })
  // Draining starts at stop(): /readyz answers 503 at once; webhooks are refused only after the drain delay.
  let draining = false
  let accepting = true
  const highWater = options.queueHighWater ?? DEFAULT_QUEUE_HIGH_WATER
  const queueWatch = setInterval(() => {
    store
      .queueFigures(new Date(now()))
      .then((figures) => {
        queueDepth = figures.pending
      })
      .catch((err: unknown) => logger.error({ err }, 'reading queue figures failed'))
  }, 500)
  queueWatch.unref()

  const handleHook = createHookHandler({
    registry,
    store,
    claims: new PendingClaims(store),
    services,
    metrics,
    figures,
    bus,
    logger,
    overloaded: () => queueDepth >= highWater,
    accepting: () => accepting,
    onAccepted: (queued) => {
      queueDepth += queued
      worker.wake()
    },
  })
  const api = createApiRouter({
    store,
    registry,
    kinds: nodeKinds,
    schemas,
    services,
    vault,
    bus,
    figures,
    metrics,
    logger,
    now,
    onQueued: () => worker.wake(),
    reconcileAfterMs,
  })
  const admin = createAdminApp({
    store,
    api,
    metrics,
    logger,
    ready: () => !draining,
    ...(options.editorDir === undefined ? {} : { editorDir: options.editorDir }),
  })
  const handleRequest = (req: IncomingMessage, res: ServerResponse) => {
    // While draining, each answer closes its connection, so keep-alive clients reconnect to another process.
    if (draining) res.setHeader('connection', 'close')
    if (req.url?.startsWith(HOOKS_PREFIX)) void handleHook(req, res)
    else admin(req, res)
  }
  const serverOptions = { keepAliveTimeout: 65_000 }
  const server: Server = options.tls
    ? createHttpsServer({ ...serverOptions, ...options.tls, minVersion: TLS_MIN_VERSION }, handleRequest)
    : createServer(serverOptions, handleRequest)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, resolve)
  })
  const address = server.address() as AddressInfo
  const url = `${options.tls ? 'https' : 'http'}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
  if (options.workers !== false) worker.start()
  const retention = new RetentionJob(store, registry, logger, now)
  retention.start()
  logger.info({ url, flows: registry.deployed().map((f) => `${f.doc.id}@${f.doc.version}`) }, 'runtime started')

  let stopping: Promise<void> | undefined
  let drainDelay: { endsAt: number; end(): void } | undefined
  const stop = (stopOptions: StopOptions = {}) => {
    const delayMs = Math.max(0, stopOptions.drainDelayMs ?? 0)
    if (stopping) {
      if (drainDelay && Date.now() + delayMs < drainDelay.endsAt) drainDelay.end()
      return stopping
    }
    stopping = (async () => {
      draining = true
      if (delayMs > 0) {
        logger.info(
          { drainDelayMs: delayMs },
          'draining: /readyz answers 503; webhooks are still taken until the delay ends',
        )
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs)
          drainDelay = {
            endsAt: Date.now() + delayMs,
            end: () => {
              clearTimeout(timer)
              resolve()
            },
          }
        })
        drainDelay = undefined
      }
      accepting = false
      logger.info('draining: no new webhooks, finishing work in flight')
      clearInterval(queueWatch)
      retention.stop()
      stopFollowingNews()
      vault.stop()
      bus.close()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      // Requests in flight get this long to be answered; keep-alive sockets after that are cut.
      const cutoff = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS)
      await worker.stop()
      await closed
      clearTimeout(cutoff)
      await http.close()
      await store.close()
      logger.info('stopped')
      logger.flush()
    })()
    return stopping
  }
  return {
    url,
    server,
    store,
    registry,
    metrics,
    logger,
    syncReports,
    vault,
    stop,
    ...(createdAdminToken === undefined ? {} : { createdAdminToken }),
  }
}
