/** @module Compiles a flow version once: checks it, then prepares its expressions, schemas and lineage. */
import jsonata from 'jsonata'
import { createAjv, toValidationIssues } from '../model/ajv.ts'
import { checkFlow, type FlowIssue, formatIssues } from '../model/graph-checks.ts'
import type { Lineage, NodeKind, PortMap, ValidationIssue } from '../model/node-kind.ts'
import { templateExpressions } from '../model/template.ts'
import type { ErrorCategory, FlowDocument, FlowNode } from '../model/types.ts'
import { fastEvaluator, NOT_FAST } from './fast-expression.ts'
import { deriveLineage } from './lineage.ts'

export interface CompiledNode {
  node: FlowNode
  kind: NodeKind
  ports: PortMap
  /** Which port an error of each category leaves through, for kinds that have error ports. */
  errorPorts: Map<ErrorCategory, string>
}

/** Where `schemas/` references come from (a directory for the runtime, the API for the editor). */
export interface SchemaSource {
  load(ref: string): object | undefined
}

export interface CompiledFlow {
  doc: FlowDocument
  entry: string
  nodes: ReadonlyMap<string, CompiledNode>
  next(nodeId: string, port: string): string[]
  expression(source: string): CompiledExpression
  validate(schema: string | object, value: unknown): ValidationIssue[]
  lineage(source: string): Lineage
}

/** A JSONata expression ready to evaluate: the fast lane when its form allows, JSONata otherwise. */
export interface CompiledExpression {
  evaluate(input: unknown, bindings: Record<string, unknown>): Promise<unknown>
}

export function compileExpression(source: string): CompiledExpression {
  const full = jsonata(source)
  const fast = fastEvaluator(full)
  if (!fast) return { evaluate: (input, bindings) => full.evaluate(input, bindings) }
  return {
    evaluate(input, bindings) {
      const value = fast(input, bindings)
      return value === NOT_FAST ? full.evaluate(input, bindings) : Promise.resolve(value)
    },
  }
}

export class FlowCompileError extends Error {
  readonly issues: FlowIssue[]
  constructor(issues: FlowIssue[]) {
    super(`the flow is not valid:\n${formatIssues(issues)}`)
    this.name = 'FlowCompileError'
    this.issues = issues
  }
}

export function compileFlow(
  input: unknown,
  options: { kinds: ReadonlyMap<string, NodeKind>; schemas: SchemaSource },
): CompiledFlow {
  const issues = checkFlow(input, {
    kinds: options.kinds,
    schemaExists: (ref) => options.schemas.load(ref) !== undefined,
  })
  if (issues.length > 0) throw new FlowCompileError(issues)
  const doc = input as FlowDocument

  const ajv = createAjv()
  const expressions = new Map<string, CompiledExpression>()
  const validators = new Map<string, ReturnType<typeof ajv.compile>>()
  const lineages = new Map<string, Lineage>()
  const edges = new Map<string, string[]>()
  const nodes = new Map<string, CompiledNode>()

  const expression = (source: string) => {
    let compiled = expressions.get(source)
    if (!compiled) {
      compiled = compileExpression(source)
      expressions.set(source, compiled)
    }
    return compiled
  }
  const validator = (schema: string | object) => {
    const key = typeof schema === 'string' ? schema : JSON.stringify(schema)
    let compiled = validators.get(key)
    if (!compiled) {
      const resolved = typeof schema === 'string' ? options.schemas.load(schema) : schema
      if (!resolved) throw new Error(`no schema "${key}"`)
      addReferencedSchemas(ajv, resolved, options.schemas)
      compiled = ajv.compile(resolved)
      validators.set(key, compiled)
    }
    return compiled
  }
  const lineage = (source: string) => {
    let derived = lineages.get(source)
    if (!derived) {
      derived = safeLineage(source)
      lineages.set(source, derived)
    }
    return derived
  }

  for (const node of doc.nodes) {
    const kind = options.kinds.get(node.kind) as NodeKind
    const ports = kind.ports(node.config)
    const errorPorts = new Map<ErrorCategory, string>()
    for (const [port, spec] of Object.entries(ports))
      for (const category of spec.error ?? []) errorPorts.set(category, port)
    nodes.set(node.id, { node, kind, ports, errorPorts })
    for (const target of kind.compileTargets?.(node.config) ?? []) {
      if (target.type === 'schema') validator(target.schema)
      else if (target.type === 'template') templateExpressions(target.source).forEach(expression)
      else {
        expression(target.source)
        if (kind.kind === 'transform') lineage(target.source)
      }
    }
  }
  for (const edge of doc.edges) {
    const key = `${edge.from}\u0000${edge.port}`
    edges.set(key, [...(edges.get(key) ?? []), edge.to])
  }
  const entered = new Set(doc.edges.map((e) => e.to))
  const entry = doc.nodes.find((n) => !entered.has(n.id))?.id as string

  return {
    doc,
    entry,
    nodes,
    next: (nodeId, port) => edges.get(`${nodeId}\u0000${port}`) ?? [],
    expression,
    validate: (schema, value) => {
      const check = validator(schema)
      return check(value) ? [] : toValidationIssues(check.errors)
    },
    lineage,
  }
}

/** Event schemas may `$ref` other `schemas/` files by reference (`conduit/report.completed.v1`). */
function addReferencedSchemas(ajv: ReturnType<typeof createAjv>, schema: unknown, source: SchemaSource): void {
  const refs = new Set<string>()
  const collect = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(collect)
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === '$ref' && typeof child === 'string' && !child.startsWith('#'))
          refs.add(child.split('#')[0] as string)
        else collect(child)
      }
    }
  }
  collect(schema)
  for (const ref of refs) {
    if (ajv.getSchema(ref)) continue
    const loaded = source.load(ref)
    if (!loaded) throw new Error(`schema reference "${ref}" not found under schemas/`)
    ajv.addSchema(loaded, ref)
    addReferencedSchemas(ajv, loaded, source)
  }
}

/** Lineage is an explanation, not a gate: an expression it cannot trace still runs. */
function safeLineage(source: string): Lineage {
  try {
    return deriveLineage(source)
  } catch {
    return {}
  }
}
