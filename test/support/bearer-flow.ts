/** @module The five-node flow the API tests use: bearer verify → validate → dedupe on id → map → http. */
import type { FlowDocument } from '../../runtime/model/types.ts'

export interface BearerFlowOptions {
  id: string
  version?: number
  name?: string
  path: string
  /** The secret ref of the bearer token. */
  tokenRef: string
  schema: object
  expression: string
  method: 'POST' | 'PUT'
  url: string
  delaysMs: number[]
}

export function bearerFlow(options: BearerFlowOptions): FlowDocument {
  return {
    schemaVersion: 1,
    id: options.id,
    version: options.version ?? 1,
    name: options.name ?? options.id,
    trigger: { path: options.path },
    nodes: [
      {
        id: 'auth',
        kind: 'verify',
        config: { scheme: 'bearer', header: 'authorization', secret: { ref: options.tokenRef } },
      },
      { id: 'validate', kind: 'validate', config: { schema: options.schema } },
      { id: 'dedupe', kind: 'dedupe', config: { key: 'id' } },
      { id: 'map', kind: 'transform', config: { expression: options.expression } },
      {
        id: 'deliver',
        kind: 'http',
        config: { method: options.method, url: options.url, retry: { delaysMs: options.delaysMs } },
      },
    ],
    edges: [
      { from: 'auth', port: 'ok', to: 'validate' },
      { from: 'validate', port: 'ok', to: 'dedupe' },
      { from: 'dedupe', port: 'new', to: 'map' },
      { from: 'map', port: 'ok', to: 'deliver' },
    ],
  }
}

/** `{id: string-ish, amount: number}` payloads. */
export const AMOUNT_SCHEMA = { type: 'object', required: ['id', 'amount'], properties: { amount: { type: 'number' } } }
