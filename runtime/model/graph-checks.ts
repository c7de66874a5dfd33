/** @module Graph checks shared by the editor and the runtime: every message names the node and the field. Browser-safe. */
import jsonata from 'jsonata'
import { createAjv } from './ajv.ts'
import { flowDocumentSchema } from './flow-schema.ts'
import { findLiteralSecrets } from './literal-secrets.ts'
import type { NodeKind, PortMap } from './node-kind.ts'
import { templateExpressions } from './template.ts'
import type { FlowDocument, FlowNode } from './types.ts'

export type FlowIssueCode =
  | 'invalid_document'
  | 'duplicate_node'
  | 'unknown_kind'
  | 'invalid_config'
  | 'literal_secret'
  | 'invalid_expression'
  | 'unknown_schema'
  | 'edge_from_missing'
  | 'edge_to_missing'
  | 'unknown_port'
  | 'duplicate_edge'
  | 'cycle'
  | 'no_entry'
  | 'unreachable'
  | 'respond_needs_completed'

export interface FlowIssue {
  code: FlowIssueCode
  /** The node the issue is about, when there is one. */
  nodeId?: string
  /** The field, as a dotted path from the node (`config.secret`) or the document (`trigger.path`). */
  field?: string
  message: string
}

export interface GraphCheckOptions {
  kinds: ReadonlyMap<string, NodeKind>
  /** Whether a `schemas/` reference exists; references are not checked when absent. */
  schemaExists?: (ref: string) => boolean
}

const ajv = createAjv()
const validateDocument = ajv.compile(flowDocumentSchema)
const configValidators = new WeakMap<NodeKind, ReturnType<typeof ajv.compile>>()

function configValidator(kind: NodeKind) {
  let validator = configValidators.get(kind)
  if (!validator) {
    validator = ajv.compile(kind.config)
    configValidators.set(kind, validator)
  }
  return validator
}

/** Checks a flow document; an empty list means it can be deployed. */
export function checkFlow(input: unknown, options: GraphCheckOptions): FlowIssue[] {
  if (!validateDocument(input)) return documentIssues(input, validateDocument.errors ?? [])
  const flow = input as unknown as FlowDocument
  const issues: FlowIssue[] = []
  const ports = new Map<string, PortMap>()
  const seen = new Set<string>()
  for (const node of flow.nodes) {
    if (seen.has(node.id)) {
      issues.push(issue('duplicate_node', node.id, 'id', `another node already has the id "${node.id}"`))
    }
    seen.add(node.id)
    const nodePorts = checkNode(flow, node, options, issues)
    if (nodePorts) ports.set(node.id, nodePorts)
  }
  checkEdges(flow, ports, issues)
  checkShape(flow, issues)
  return issues
}

function checkNode(flow: FlowDocument, node: FlowNode, options: GraphCheckOptions, issues: FlowIssue[]) {
  const kind = options.kinds.get(node.kind)
  if (!kind) {
    const known = [...options.kinds.keys()].join(', ')
    issues.push(issue('unknown_kind', node.id, 'kind', `kind "${node.kind}" is not one of ${known}`))
    return undefined
  }
  for (const found of findLiteralSecrets(kind.config, node.config)) {
    issues.push(issue('literal_secret', node.id, `config.${found.field}`, found.message))
  }
  const validator = configValidator(kind)
  if (!validator(node.config)) {
    for (const error of validator.errors ?? []) {
      if (error.keyword === 'if') continue
      const field = fieldOf(error.instancePath, error.params as Record<string, unknown>)
      issues.push(issue('invalid_config', node.id, `config${field ? `.${field}` : ''}`, error.message ?? 'is invalid'))
    }
    return undefined
  }
  if (kind.kind === 'respond' && flow.trigger.respond !== 'completed') {
    issues.push(
      issue(
        'respond_needs_completed',
        node.id,
        'kind',
        'a respond node needs the trigger to have respond: "completed"',
      ),
    )
  }
  for (const target of kind.compileTargets?.(node.config) ?? []) {
    const field = `config.${target.field}`
    if (target.type === 'schema') {
      if (typeof target.schema === 'string' && options.schemaExists && !options.schemaExists(target.schema)) {
        issues.push(issue('unknown_schema', node.id, field, `no schema "${target.schema}" under schemas/`))
      }
      continue
    }
    const sources = target.type === 'template' ? templateExpressions(target.source) : [target.source]
    for (const source of sources) {
      const problem = jsonataSyntaxError(source)
      if (problem) issues.push(issue('invalid_expression', node.id, field, problem))
    }
  }
  return kind.ports(node.config)
}

function checkEdges(flow: FlowDocument, ports: Map<string, PortMap>, issues: FlowIssue[]) {
  const ids = new Set(flow.nodes.map((n) => n.id))
  const seen = new Set<string>()
  flow.edges.forEach((edge, index) => {
    const at = `edges[${index}]`
    if (!ids.has(edge.from)) {
      issues.push(
        issue(
          'edge_from_missing',
          edge.from,
          `${at}.from`,
          `edge ${at} leaves node "${edge.from}", which does not exist`,
        ),
      )
      return
    }
    if (!ids.has(edge.to)) {
      issues.push(
        issue('edge_to_missing', edge.from, `${at}.to`, `edge ${at} goes to node "${edge.to}", which does not exist`),
      )
    }
    const nodePorts = ports.get(edge.from)
    if (nodePorts && !(edge.port in nodePorts)) {
      const names = Object.keys(nodePorts)
      const known = names.length ? names.join(', ') : 'none'
      issues.push(
        issue(
          'unknown_port',
          edge.from,
          `${at}.port`,
          `node "${edge.from}" has no port "${edge.port}" (ports: ${known})`,
        ),
      )
    }
    const key = `${edge.from}\u0000${edge.port}\u0000${edge.to}`
    if (seen.has(key)) issues.push(issue('duplicate_edge', edge.from, `${at}`, `edge ${at} repeats an earlier edge`))
    seen.add(key)
  })
}

/** The entry is the one node no edge enters; every node must be reachable from it, and nothing may loop. */
function checkShape(flow: FlowDocument, issues: FlowIssue[]) {
  const ids = new Set(flow.nodes.map((n) => n.id))
  const next = new Map<string, string[]>()
  const entered = new Set<string>()
  for (const edge of flow.edges) {
    if (!ids.has(edge.from) || !ids.has(edge.to)) continue
    next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to])
    entered.add(edge.to)
  }
  for (const cycle of findCycles(
    flow.nodes.map((n) => n.id),
    next,
  )) {
    issues.push(issue('cycle', cycle[0], 'edges', `nodes ${cycle.map((id) => `"${id}"`).join(' → ')} form a cycle`))
  }
  const entries = flow.nodes.filter((n) => !entered.has(n.id))
  const entry = entries[0]
  if (!entry) {
    issues.push({
      code: 'no_entry',
      field: 'edges',
      message: 'edges: every node has an incoming edge, so no node receives the webhook',
    })
    return
  }
  const reached = new Set<string>([entry.id])
  const queue = [entry.id]
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    for (const to of next.get(id) ?? []) {
      if (!reached.has(to)) {
        reached.add(to)
        queue.push(to)
      }
    }
  }
  for (const node of flow.nodes) {
    if (!reached.has(node.id)) {
      issues.push(
        issue('unreachable', node.id, 'edges', `node "${node.id}" cannot be reached from the entry node "${entry.id}"`),
      )
    }
  }
}

function findCycles(ids: string[], next: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>()
  const cycles: string[][] = []
  const stack: string[] = []
  const visit = (id: string) => {
    state.set(id, 'open')
    stack.push(id)
    for (const to of next.get(id) ?? []) {
      const seen = state.get(to)
      if (seen === 'open') cycles.push([...stack.slice(stack.indexOf(to)), to])
      else if (seen === undefined) visit(to)
    }
    stack.pop()
    state.set(id, 'done')
  }
  for (const id of ids) if (!state.has(id)) visit(id)
  return cycles
}

export function jsonataSyntaxError(source: string): string | undefined {
  try {
    jsonata(source)
    return undefined
  } catch (error) {
    const { message, position } = error as { message?: string; position?: number }
    return `JSONata: ${message ?? String(error)}${position === undefined ? '' : ` (at character ${position})`}`
  }
}

function documentIssues(input: unknown, errors: NonNullable<typeof validateDocument.errors>): FlowIssue[] {
  const nodes = (input as { nodes?: unknown })?.nodes
  return errors.map((error) => {
    const field = fieldOf(error.instancePath, error.params as Record<string, unknown>)
    const match = /^nodes\[(\d+)\]\.?(.*)$/.exec(field)
    const node = match && Array.isArray(nodes) ? (nodes[Number(match[1])] as { id?: unknown } | undefined) : undefined
    if (match && typeof node?.id === 'string') {
      return issue('invalid_document', node.id, match[2] || undefined, `${match[2] || 'node'} ${error.message}`)
    }
    return {
      code: 'invalid_document',
      field: field || undefined,
      message: `${field || 'document'} ${error.message}`,
    } as FlowIssue
  })
}

/** `/cases/0/when` → `cases[0].when`; a missing property is named itself. */
function fieldOf(instancePath: string, params: Record<string, unknown>): string {
  const segments = instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (typeof params.missingProperty === 'string') segments.push(params.missingProperty)
  if (typeof params.additionalProperty === 'string') segments.push(params.additionalProperty)
  return segments.reduce(
    (path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment),
    '',
  )
}

function issue(code: FlowIssueCode, nodeId: string | undefined, field: string | undefined, detail: string): FlowIssue {
  const where = [nodeId === undefined ? undefined : `node "${nodeId}"`, field].filter(Boolean).join(' ')
  return {
    code,
    ...(nodeId === undefined ? {} : { nodeId }),
    ...(field === undefined ? {} : { field }),
    message: where ? `${where}: ${detail}` : detail,
  }
}

export function formatIssues(issues: readonly FlowIssue[]): string {
  return issues.map((i) => `- ${i.message}`).join('\n')
}
