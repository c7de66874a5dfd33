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
  ready(): boolean
  editorDir?: string
}

export function createAdminApp(deps: AdminDeps): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
  })
  app.get('/readyz', async function readiness(_req, res) {
    if (!deps.ready()) {
      res.status(503).json({ status: 'draining' })
      return
    }
    try {
      await deps.store.queueFigures(new Date())
      res.json({ status: 'ready' })
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
