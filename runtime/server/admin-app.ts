/** @module The express app behind everything that is not a webhook: health, metrics, admin API, editor. */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import express, { type NextFunction, type Request, type Response } from 'express'
import type { FlowRegistry } from '../deploy/flow-registry.ts'
import type { EventStatus, Store } from '../store/store.ts'
import type { Logger } from './logger.ts'
import type { RuntimeMetrics } from './metrics.ts'

export interface AdminDeps {
  store: Store
  registry: FlowRegistry
  metrics: RuntimeMetrics
  logger: Logger
  ready(): boolean
  editorDir?: string
  adminTokenCheck?: (token: string) => boolean
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
  app.use('/api', express.json({ limit: '5mb' }), requireToken(deps.adminTokenCheck))
  app.get('/api/flows', async function listFlows(_req, res) {
    res.json(await deps.store.listFlows())
  })
  app.get('/api/events', async function listEvents(req, res) {
    const query = req.query as Record<string, string | undefined>
    res.json(
      await deps.store.listEvents({
        ...(query.flow ? { flow: query.flow } : {}),
        ...(query.status ? { status: query.status as EventStatus } : {}),
        ...(query.limit ? { limit: Number(query.limit) } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
      }),
    )
  })
  app.get('/api/events/:id', async function getEvent(req, res) {
    const event = await deps.store.getEvent(String(req.params.id))
    if (!event) {
      res.status(404).json({ error: { code: 'not_found', message: `no event ${req.params.id}` } })
      return
    }
    res.json(event)
  })
  app.get('/api/dead-letters', async function listDeadLetters(req, res) {
    const query = req.query as Record<string, string | undefined>
    res.json(
      await deps.store.listDeadLetters({
        ...(query.flow ? { flow: query.flow } : {}),
        ...(query.limit ? { limit: Number(query.limit) } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
      }),
    )
  })
  if (deps.editorDir && existsSync(join(deps.editorDir, 'index.html'))) {
    const index = join(deps.editorDir, 'index.html')
    app.use(express.static(deps.editorDir, { index: false }))
    app.get(/^\/(?!api\/|hooks\/).*/, (_req, res) => res.sendFile(index))
  }
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such route' } })
  })
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    deps.logger.error({ err: error }, 'admin request failed')
    res.status(500).json({ error: { code: 'internal', message: error.message } })
  })
  return app
}

function requireToken(check: ((token: string) => boolean) | undefined) {
  return function checkToken(req: Request, res: Response, next: NextFunction) {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    if (!check || given === undefined || !check(given)) {
      res.status(401).json({ error: { code: 'unauthorized', message: 'a valid bearer token is required' } })
      return
    }
    next()
  }
}
