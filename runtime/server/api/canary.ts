/** @module Admin API: a running canary's one-call outcomes — promote the candidate, or roll back to the stable version. */
import { Type } from '@sinclair/typebox'
import type { CanaryDeployment, Deployment } from '../../store/store.ts'
import { bodyChecker } from './body-check.ts'
import { deploy, runningCanary } from './deploy.ts'
import { REASON_MAX } from './replay.ts'
import { defineRoutes, type RouteSpec } from './route.ts'

const canaryBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: REASON_MAX, description: 'why, for the audit log' })) },
  { additionalProperties: false },
)

const checkCanaryBody = bodyChecker<{ reason?: string }>(canaryBody)

/** A canary's end: deploys, alone, the version `kept` picks from the running one (audited as promote or rollback). */
function canaryEnd(
  action: 'promote' | 'rollback',
  summary: string,
  kept: (running: Deployment & { canary: CanaryDeployment }) => number,
): RouteSpec {
  return {
    method: 'post',
    path: `/flows/:id/canary/${action}`,
    role: 'operator',
    summary,
    body: canaryBody,
    responses: { 200: '{flowId, version, canary: null}', 409: 'no_canary: none is running' },
    async handler(req, res, { deps, caller }) {
      const { reason } = checkCanaryBody(req.body ?? {})
      const flowId = String(req.params.id)
      const version = kept(await runningCanary(deps, flowId))
      res.json(await deploy(deps, caller, flowId, { version, ...(reason ? { reason } : {}) }))
    },
  }
}

export const canaryRoutes = defineRoutes([
  canaryEnd(
    'promote',
    'Promotes the running canary: its candidate takes every new webhook of the flow',
    (running) => running.canary.version,
  ),
  canaryEnd(
    'rollback',
    'Rolls the running canary back: the deployed (stable) version takes every new webhook again',
    (running) => running.version,
  ),
])
