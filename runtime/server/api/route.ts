/** @module How an admin API route is declared: once, with its role, so auth, OpenAPI and the role matrix test agree. */
import type { Request, Response } from 'express'
import type { Role } from '../../store/store.ts'
import type { ApiDeps } from './deps.ts'

export const ROLES: readonly Role[] = ['viewer', 'editor', 'operator', 'admin']

/** Who called: the token's name and role. */
export interface Caller {
  tokenId: string
  name: string
  role: Role
}

export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete'
  /** Express path under /api, e.g. `/flows/:id/deploy`. */
  path: string
  /** The smallest role allowed; a function when it depends on the body (replay preview is editor). */
  role: Role | ((req: Request) => Role)
  summary: string
  /** JSON Schema of the body, for OpenAPI and for a 400 that names the field. */
  body?: object
  /** Query parameters, for OpenAPI. */
  query?: Record<string, { type: 'string' | 'integer' | 'boolean'; description?: string }>
  /** Responses, for OpenAPI: status → description. */
  responses: Record<number, string>
  /** Server-sent events instead of JSON. */
  stream?: boolean
  handler(req: Request, res: Response, ctx: { deps: ApiDeps; caller: Caller }): Promise<void> | void
}

export function defineRoutes(routes: RouteSpec[]): RouteSpec[] {
  return routes
}

/** An error the API answers as `{error: {code, message}}` with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed)
}
