/** @module For every 401: what the signature-failure explainer finds, recorded for operators only. */
import type { CompiledFlow } from '../engine/compile.ts'
import type { EngineEvent, EngineServices } from '../engine/types.ts'
import type { SignatureCheck } from '../model/node-kind.ts'
import { isSecretRef } from '../model/types.ts'
import { DEFAULT_TOLERANCE_SEC } from '../nodes/verify.ts'
import { explainSignatureFailure, type SignatureDiagnosis } from '../signatures/explain.ts'

export function diagnoseRejection(
  flow: CompiledFlow,
  event: EngineEvent,
  services: EngineServices,
  nodeId: string | undefined,
): (SignatureDiagnosis & { node: string }) | undefined {
  const node = nodeId === undefined ? undefined : flow.nodes.get(nodeId)
  if (node?.kind.kind !== 'verify') return undefined
  const check = signatureCheckOf(node.node.config, services)
  if (!check) return undefined
  const diagnosis = explainSignatureFailure(check, {
    headers: event.headers,
    rawBody: event.rawBody,
    nowSec: Math.floor(services.now() / 1000),
  })
  return { node: node.node.id, ...diagnosis }
}

/** The check a verify node's config stands for, with the secrets resolved now. */
export function signatureCheckOf(
  config: Record<string, unknown>,
  services: EngineServices,
): SignatureCheck | undefined {
  const secret = config.secret
  if (!isSecretRef(secret)) return undefined
  return {
    scheme: config.scheme as SignatureCheck['scheme'],
    ...(typeof config.header === 'string' ? { header: config.header.toLowerCase() } : {}),
    secrets: services.secret(secret.ref),
    toleranceSec: typeof config.toleranceSec === 'number' ? config.toleranceSec : DEFAULT_TOLERANCE_SEC,
    ...(typeof config.algorithm === 'string' ? { algorithm: config.algorithm as SignatureCheck['algorithm'] } : {}),
    ...(typeof config.encoding === 'string' ? { encoding: config.encoding as SignatureCheck['encoding'] } : {}),
    ...(typeof config.prefix === 'string' ? { prefix: config.prefix } : {}),
  }
}
