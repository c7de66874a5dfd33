/**
 * @module Deploying a flow version, with or without a canary, as POST /api/flows/:id/deploy and the canary's
 * one-call promote and roll back do it: checked, stored, taken by this process's registry (others hear the
 * store's deploy news), audited.
 */
import { Type } from '@sinclair/typebox'
import type { CanaryDeployment, Deployment } from '../../store/store.ts'
import { bodyChecker } from './body-check.ts'
import type { ApiDeps } from './deps.ts'
import { REASON_MAX } from './replay.ts'
import { ApiError, type Caller } from './route.ts'
import { compileOrReject } from './test-run.ts'

export const deployBody = Type.Object(
  {
    version: Type.Integer({
      minimum: 1,
      description: 'the saved version to deploy; with canaryPercent, the candidate beside the deployed version',
    }),
    canaryPercent: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 99,
        description: 'deploy `version` as a canary taking this share of new events; without it any canary ends',
      }),
    ),
    reason: Type.Optional(Type.String({ maxLength: REASON_MAX, description: 'why, for the audit log' })),
  },
  { additionalProperties: false },
)

export interface DeployRequest {
  version: number
  canaryPercent?: number
  reason?: string
}

export const checkDeployBody = bodyChecker<DeployRequest>(deployBody)

/** What a deploy answers: the stable version, and the canary beside it (null when none runs). */
export interface DeployAnswer {
  flowId: string
  version: number
  canary: CanaryDeployment | null
}

/**
 * Without `canaryPercent`: `version` takes every new event and any canary ends (a promote when it is the
 * candidate, a roll back when it is the stable version). With it: `version` takes that share of new events
 * beside the deployed version, which keeps the rest. Work already queued keeps the version it started on.
 */
export async function deploy(deps: ApiDeps, caller: Caller, flowId: string, request: DeployRequest) {
  const { version, canaryPercent, reason } = request
  const record = await deps.store.getFlowVersion(flowId, version)
  if (!record) throw new ApiError(404, 'not_found', `flow "${flowId}" has no version ${version}`)
  // Compile before deploying: a version that no longer compiles (a schema removed since) is refused here,
  // not found out by the registry after the switch.
  compileOrReject(record.document, deps)
  const current = (await deps.store.deployments()).get(flowId)
  let answer: DeployAnswer
  let action: string
  let details: Record<string, unknown> = { path: record.document.trigger.path }
  if (canaryPercent === undefined) {
    await deps.store.deployFlow(flowId, version)
    answer = { flowId, version, canary: null }
    action = endedCanaryAction(current, version)
    if (current?.canary) details = { ...details, previousVersion: current.version, endedCanary: current.canary }
  } else {
    const stable = await canaryBeside(deps, flowId, current, version, record.document.trigger.path)
    const canary = { version, percent: canaryPercent }
    await deps.store.deployFlow(flowId, stable, canary)
    answer = { flowId, version: stable, canary }
    action = 'deploy.canary'
    details = { ...details, stableVersion: stable, percent: canaryPercent }
  }
  await deps.registry.refresh()
  await deps.store.appendAudit({
    actor: caller.name,
    action,
    target: `flow:${flowId}@${version}`,
    reason: reason ?? null,
    details,
  })
  deps.logger.info({ flowId, flowVersion: version, actor: caller.name, action, canary: answer.canary }, 'flow deployed')
  return answer
}

/** The canary running for a flow, or 409 when none does. */
export async function runningCanary(deps: ApiDeps, flowId: string): Promise<Deployment & { canary: CanaryDeployment }> {
  const current = (await deps.store.deployments()).get(flowId)
  if (!current?.canary) throw new ApiError(409, 'no_canary', `flow "${flowId}" has no canary running`)
  return current as Deployment & { canary: CanaryDeployment }
}

/** A plain deploy that ends a canary is its promote or its roll back; any other is a deploy. */
function endedCanaryAction(current: Deployment | undefined, version: number): string {
  if (!current?.canary) return 'deploy'
  if (version === current.canary.version) return 'canary.promote'
  return version === current.version ? 'canary.rollback' : 'deploy'
}

/** The stable version a canary of `version` runs beside: deployed, other than it, on the same webhook path. */
async function canaryBeside(
  deps: ApiDeps,
  flowId: string,
  current: Deployment | undefined,
  version: number,
  path: string,
): Promise<number> {
  if (!current) {
    throw new ApiError(409, 'not_deployed', `flow "${flowId}" is not deployed: a canary runs beside a deployed version`)
  }
  if (current.version === version) {
    throw new ApiError(409, 'canary_is_deployed', `version ${version} is the deployed version: a canary is another one`)
  }
  const stable = await deps.store.getFlowVersion(flowId, current.version)
  if (stable && stable.document.trigger.path !== path) {
    throw new ApiError(
      409,
      'canary_path_differs',
      `version ${version} serves /hooks/${path}, the deployed version /hooks/${stable.document.trigger.path}: ` +
        'a canary must keep the webhook path (deploy it without canaryPercent to move the path)',
    )
  }
  return current.version
}
