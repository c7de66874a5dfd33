/** @module /api/tokens: issue (shown once), list and revoke API tokens; admin only, every change audited. */
import { Type } from '@sinclair/typebox'
import { stringEnum } from '../../model/schema-helpers.ts'
import type { Role } from '../../store/store.ts'
import { issueToken } from './auth.ts'
import { bodyChecker } from './body-check.ts'
import { ApiError, defineRoutes, ROLES } from './route.ts'

export const TOKEN_NAME_MAX = 100

const createTokenBody = Type.Object(
  {
    role: stringEnum(ROLES as readonly Role[], { description: 'what the token may do' }),
    name: Type.String({ minLength: 1, maxLength: TOKEN_NAME_MAX, description: 'who or what uses it' }),
  },
  { additionalProperties: false },
)

const checkCreateToken = bodyChecker<{ role: Role; name: string }>(createTokenBody)

export const tokenRoutes = defineRoutes([
  {
    method: 'post',
    path: '/tokens',
    role: 'admin',
    summary: 'Issue an API token with a role; the token is in this answer only (the store keeps its hash)',
    body: createTokenBody,
    responses: { 201: '{token, id, name, role}', 400: 'role or name missing or invalid' },
    async handler(req, res, { deps, caller }) {
      const { role, name } = checkCreateToken(req.body)
      const { token, record } = await issueToken(deps.store, role, name, caller.name)
      await deps.store.appendAudit({
        actor: caller.name,
        action: 'token.create',
        target: `token:${record.id}`,
        reason: null,
        details: { name: record.name, role: record.role },
      })
      res.status(201).json({ token, id: record.id, name: record.name, role: record.role })
    },
  },
  {
    method: 'get',
    path: '/tokens',
    role: 'admin',
    summary: 'Every token: id, name, role, when made, last used, revoked (never the token nor its hash)',
    responses: { 200: '[{id, name, role, createdAt, createdBy, lastUsedAt, revokedAt}]' },
    async handler(_req, res, { deps }) {
      const tokens = await deps.store.listTokens()
      // Whatever a store's record may carry, only these fields leave the runtime.
      res.json(
        tokens.map((t) => ({
          id: t.id,
          name: t.name,
          role: t.role,
          createdAt: t.createdAt,
          createdBy: t.createdBy,
          lastUsedAt: t.lastUsedAt,
          revokedAt: t.revokedAt,
        })),
      )
    },
  },
  {
    method: 'delete',
    path: '/tokens/:id',
    role: 'admin',
    summary: 'Revoke a token: it gets 401 from now on',
    responses: { 200: '{id, revoked: true}', 404: 'no live token has this id' },
    async handler(req, res, { deps, caller }) {
      const id = String(req.params.id)
      if (!(await deps.store.revokeToken(id))) throw new ApiError(404, 'not_found', `no live token ${id}`)
      await deps.store.appendAudit({
        actor: caller.name,
        action: 'token.revoke',
        target: `token:${id}`,
        reason: null,
        details: null,
      })
      res.json({ id, revoked: true })
    },
  },
])
