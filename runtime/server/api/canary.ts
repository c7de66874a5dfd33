/** @module Admin API: a running canary's one-call outcomes — promote the candidate, or roll back to the stable version. */
import { Type } from '@sinclair/typebox'
import { bodyChecker } from './body-check.ts'
import { deploy, runningCanary } from './deploy.ts'
import { REASON_MAX } from './replay.ts'
import { defineRoutes } from './route.ts'

const canaryBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: REASON_MAX, description: 'why, for the audit log' })) },
  { additionalProperties: false },
)

const checkCanaryBody = bodyChecker<{ reason?: string }>(canaryBody)

export const canaryRoutes = defineRoutes([
  {
    method: 'post',
    path: '/flows/:id/canary/promote',
    role: 'operator',
    summary: 'Promotes the running canary: its candidate takes every new webhook of the flow',
    body: canaryBody,
    responses: { 200: '{flowId, version, canary: null}', 409: 'no_canary: none is running' },
    async handler(req, res, { deps, caller }) {
      const { reason } = checkCanaryBody(req.body ?? {})
      const flowId = String(req.params.id)
      const { canary } = await runningCanary(deps, flowId)
      res.json(await deploy(deps, caller, flowId, { version: canary.version, ...(reason ? { reason } : {}) }))
    },
  },
  {
    method: 'post',
    path: '/flows/:id/canary/rollback',
    role: 'operator',
    summary: 'Rolls the running canary back: the deployed (stable) version takes every new webhook again',
    body: canaryBody,
    responses: { 200: '{flowId, version, canary: null}', 409: 'no_canary: none is running' },
    async handler(req, res, { deps, caller }) {
      const { reason } = checkCanaryBody(req.body ?? {})
      const flowId = String(req.params.id)
      const { version } = await runningCanary(deps, flowId)
      res.json(await deploy(deps, caller, flowId, { version, ...(reason ? { reason } : {}) }))
    },
  },
])
