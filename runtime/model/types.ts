/** @module The flow document shared by the editor and the runtime (SPEC §2). Browser-safe. */

export const FLOW_SCHEMA_VERSION = 1

/** Error categories an error outcome carries (SPEC §3). */
export const ERROR_CATEGORIES = [
  'invalid_signature',
  'schema_reject',
  'transform_error',
  'retriable',
  'non_retriable',
] as const
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number]

/** A reference to a value held by the runtime's secret store; flows never hold secret values. */
export interface SecretRef {
  ref: string
}

export interface RateLimit {
  perSecond: number
  burst?: number
}

export interface Trigger {
  path: string
  respond?: 'accepted' | 'completed'
  maxBodyBytes?: number
  rateLimit?: RateLimit
}

export interface Retention {
  rawPayloadDays?: number
  redact?: string[]
}

export interface Position {
  x: number
  y: number
}

export interface FlowNode {
  id: string
  kind: string
  name?: string
  config: Record<string, unknown>
  position?: Position
}

export interface FlowEdge {
  from: string
  port: string
  to: string
}

export interface FlowDocument {
  schemaVersion: 1
  id: string
  version: number
  name: string
  description?: string
  trigger: Trigger
  retention?: Retention
  nodes: FlowNode[]
  edges: FlowEdge[]
}

export const DEFAULT_MAX_BODY_BYTES = 1_048_576
export const DEFAULT_RAW_PAYLOAD_DAYS = 7

export function isSecretRef(value: unknown): value is SecretRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { ref?: unknown }).ref === 'string' &&
    Object.keys(value).length === 1
  )
}
