/** @module The admin API: every route of api/*.ts mounted with its role check, and its OpenAPI document. */
import express, { type NextFunction, type Request, type Response, type Router } from 'express'
import { auditRoutes } from './audit.ts'
import { authenticate } from './auth.ts'
import { canaryRoutes } from './canary.ts'
import { deadLetterRoutes } from './dead-letters.ts'
import type { ApiDeps } from './deps.ts'
import { eventRoutes } from './events.ts'
import { flowRoutes } from './flows.ts'
import { impactRoutes } from './impact.ts'
import { meRoutes } from './me.ts'
import { metricsSummaryRoutes } from './metrics-summary.ts'
import { openApiDocument } from './openapi.ts'
import { openLineageRoutes } from './openlineage.ts'
import { reconcileRoutes } from './reconcile.ts'
import { ApiError, type RouteSpec, roleAtLeast } from './route.ts'
import { secretRoutes } from './secrets.ts'
import { streamRoutes } from './stream.ts'
import { tokenRoutes } from './tokens.ts'

/** Every admin route, in the order OpenAPI lists them. */
export const apiRoutes: readonly RouteSpec[] = [
  ...flowRoutes,
  ...canaryRoutes,
  ...impactRoutes,
  ...openLineageRoutes,
  ...eventRoutes,
  ...deadLetterRoutes,
  ...reconcileRoutes,
  ...streamRoutes,
  ...metricsSummaryRoutes,
  ...secretRoutes,
  ...tokenRoutes,
  ...auditRoutes,
  ...meRoutes,
]

export function createApiRouter(deps: ApiDeps): Router {
  const router = express.Router()
  router.use(express.json({ limit: '5mb' }))
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(apiRoutes))
  })
  for (const route of apiRoutes) {
    router[route.method](route.path, async function handle(req: Request, res: Response, next: NextFunction) {
      try {
        // No token: 401; too small a role: 403 — both before looking at whether the thing exists.
        const caller = await authenticate(req, deps)
        const needed = typeof route.role === 'function' ? route.role(req) : route.role
        if (!roleAtLeast(caller.role, needed)) {
          throw new ApiError(
            403,
            'forbidden',
            `this needs the ${needed} role; the token "${caller.name}" is ${caller.role}`,
          )
        }
        await route.handler(req, res, { deps, caller })
      } catch (error) {
        next(error)
      }
    })
  }
  router.use((_req: Request, _res: Response, next: NextFunction) => {
    next(new ApiError(404, 'not_found', 'no such API route'))
  })
  router.use(function apiErrors(error: unknown, _req: Request, res: Response, _next: NextFunction) {
    if (res.headersSent) return
    if (error instanceof ApiError) {
      res.status(error.status).json({
        error: {
          code: error.code,
          message: error.message,
          ...(error.details === undefined ? {} : { details: error.details }),
        },
      })
      return
    }
    if (isJsonSyntaxError(error)) {
      res.status(400).json({ error: { code: 'malformed_json', message: 'the request body is not JSON' } })
      return
    }
    deps.logger.error({ err: error }, 'admin API request failed')
    res.status(500).json({ error: { code: 'internal', message: 'the request failed; see the runtime log' } })
  })
  return router
}

function isJsonSyntaxError(error: unknown): boolean {
  return error instanceof SyntaxError && (error as { type?: string }).type === 'entity.parse.failed'
}
