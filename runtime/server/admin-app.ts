/** @module The express app behind everything that is not a webhook: health, metrics, the admin API, the editor. */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import express, { type NextFunction, type Request, type Response, type Router } from 'express'
import type { Store } from '../store/store.ts'
import type { Logger } from './logger.ts'
import type { RuntimeMetrics } from './metrics.ts'

export interface AdminDeps {
  store: Store
  api: Router
  metrics: RuntimeMetrics
  logger: Logger
  /** False from the moment the runtime starts draining (SIGTERM), before its listener closes. */
  ready(): boolean
  editorDir?: string
}

/** /readyz gives the store this long to answer its read; a slower store counts as unavailable. */
export const READINESS_STORE_TIMEOUT_MS = 2_000

export function createAdminApp(deps: AdminDeps): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
  })
  // Readiness for a load balancer (/healthz only says the process is up): not while draining, and only when
  // the store answers a cheap read. Migrations are applied when the store opens, before the listener starts,
  // so a runtime that answers at all runs on a migrated store.
  app.get('/readyz', async function readiness(_req, res) {
    if (!deps.ready()) {
      res.status(503).json({ status: 'draining' })
      return
    }
    try {
      await withTimeout(deps.store.deployedFlows(), READINESS_STORE_TIMEOUT_MS)
      if (!deps.ready()) res.status(503).json({ status: 'draining' })
      else res.json({ status: 'ready' })
    } catch (error) {
      res.status(503).json({ status: 'store unavailable', message: (error as Error).message })
    }
  })
  app.get('/metrics', async function metrics(_req, res) {
    res.set('content-type', deps.metrics.registry.contentType)
    res.send(await deps.metrics.registry.metrics())
  })
  app.use('/api', deps.api)
  if (deps.editorDir && existsSync(join(deps.editorDir, 'index.html'))) {
    const index = join(deps.editorDir, 'index.html')
    app.use(express.static(deps.editorDir, { index: false }))
    // Every editor screen has its own address; the browser app routes them.
    app.get(/^\/(?!api\/|hooks\/).*/, (_req, res) => res.sendFile(index))
  } else if (deps.editorDir) {
    deps.logger.warn({ editorDir: deps.editorDir }, 'the editor is not built: run `npm run build` (npm start does)')
    app.get(/^\/(?!api\/|hooks\/).*/, (_req, res) => {
      res
        .status(503)
        .type('text/plain')
        .send('The editor is not built here yet: run `npm run build` (or start with `npm start`, which builds it).\n')
    })
  }
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such route' } })
  })
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    deps.logger.error({ err: error }, 'request failed')
    res.status(500).json({ error: { code: 'internal', message: 'the request failed; see the runtime log' } })
  })
  return app
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the store did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}
