/**
 * @module The admin API's OpenAPI 3.1 document, generated from the very RouteSpecs the router mounts, so the
 * two cannot drift: paths, methods, roles (`x-role`), bodies, query parameters and answers.
 */
import type { Request } from 'express'
import type { RouteSpec } from './route.ts'

export const API_PREFIX = '/api'
export const OPENAPI_PATH = `${API_PREFIX}/openapi.json`
const API_VERSION = '1'

type JsonObject = Record<string, unknown>

const documents = new WeakMap<readonly RouteSpec[], JsonObject>()

export function openApiDocument(routes: readonly RouteSpec[]): JsonObject {
  let document = documents.get(routes)
  if (!document) {
    document = buildDocument(routes)
    documents.set(routes, document)
  }
  return document
}

function buildDocument(routes: readonly RouteSpec[]): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {
    [OPENAPI_PATH]: {
      get: {
        operationId: 'getOpenapiJson',
        summary: 'This document',
        tags: ['meta'],
        security: [],
        responses: { 200: { description: 'the OpenAPI 3.1 document of the admin API' } },
      },
    },
  }
  for (const route of routes) {
    const path = openApiPath(route.path)
    paths[path] ??= {}
    paths[path][route.method] = operation(route)
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mapper Studio admin API',
      version: API_VERSION,
      description:
        'JSON under /api with `Authorization: Bearer <token>`. Roles, each including the ones before it: viewer (read), editor (+ save flows, test runs, replay previews), operator (+ deploy, replay, secrets, audit), admin (+ tokens). No token: 401; too small a role: 403, checked before whether the thing asked for exists. `x-role` on each operation is the smallest role it needs. Errors are `{error: {code, message, details?}}`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [...new Set(routes.map((r) => tagOf(r.path)))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API token (mapper token create)' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
            },
          },
        },
      },
      responses: {
        Unauthorized: { description: 'no token, or a revoked or unknown one', content: errorContent() },
        Forbidden: { description: "the token's role is below the operation's x-role", content: errorContent() },
      },
    },
  }
}

/** Express `/flows/:id/versions/:v` → OpenAPI `/api/flows/{id}/versions/{v}`. */
export function openApiPath(expressPath: string): string {
  return `${API_PREFIX}${expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')}`
}

function operation(route: RouteSpec): JsonObject {
  const pathParams = [...route.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string)
  const parameters = [
    ...pathParams.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...Object.entries(route.query ?? {}).map(([name, q]) => ({
      name,
      in: 'query',
      required: false,
      schema: { type: q.type },
      ...(q.description === undefined ? {} : { description: q.description }),
    })),
  ]
  const responses: Record<string, JsonObject> = {}
  for (const [status, description] of Object.entries(route.responses)) {
    responses[status] = { description, ...responseContent(Number(status), route.stream === true) }
  }
  responses['401'] ??= { $ref: '#/components/responses/Unauthorized' }
  responses['403'] ??= { $ref: '#/components/responses/Forbidden' }
  const role = typeof route.role === 'function' ? route.role(emptyRequest()) : route.role
  return {
    operationId: operationId(route),
    summary: route.summary,
    tags: [tagOf(route.path)],
    'x-role': role,
    // The role depends on the body (a replay preview needs less than a real replay): x-role is the body-less one.
    ...(typeof route.role === 'function' ? { 'x-role-depends-on-body': true } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body === undefined
      ? {}
      : { requestBody: { required: true, content: { 'application/json': { schema: plainSchema(route.body) } } } }),
    responses,
  }
}

function responseContent(status: number, stream: boolean): JsonObject {
  if (status >= 400) return { content: errorContent() }
  if (stream && status < 300) return { content: { 'text/event-stream': { schema: { type: 'string' } } } }
  return {}
}

function errorContent(): JsonObject {
  return { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }
}

/** `getFlowsByIdVersionsByV`: unique because method + path are. */
function operationId(route: RouteSpec): string {
  const words = route.path
    .split('/')
    .filter(Boolean)
    .flatMap((segment) => (segment.startsWith(':') ? ['by', segment.slice(1)] : segment.split(/[-_.]/)))
  return [route.method, ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('')
}

function tagOf(path: string): string {
  return path.split('/').find(Boolean) ?? 'api'
}

/** TypeBox schemas carry symbol keys; the document holds plain JSON. */
function plainSchema(schema: object): unknown {
  return JSON.parse(JSON.stringify(schema))
}

/** What a body-dependent role function sees when asked for the operation's role in general. */
function emptyRequest(): Request {
  return { body: {}, query: {}, params: {}, headers: {} } as unknown as Request
}
