/**
 * @module The static field lineage of a flow version: for every node that hands data out of the flow (transform,
 * http, respond), which input fields each output field comes from — derived from the JSONata syntax trees along
 * every path from the webhook, composed through the transforms on the way as the engine composes them on a run.
 * Browser-safe.
 *
 * - A transform's output is its expression's lineage, composed with the lineage that reached it.
 * - An http node's output is its request body: the `body` expression's lineage, or the payload as it arrived.
 *   After an http node, the payload is the downstream's answer: later fields come from that answer.
 * - A respond node's output is its answer body, like http.
 * - Branch conditions and dedupe keys on the way decide whether an output exists at all: they are its
 *   `conditions` (OpenLineage's indirect lineage). Leaving a branch by a case's port reads that case's condition
 *   and those of the cases before it (they were false); `otherwise` reads them all.
 * - A node reached by several paths gets the union.
 */
import { composeLineage, deriveLineage } from '../engine/lineage.ts'
import type { Lineage, NodeKind } from '../model/node-kind.ts'
import type { FlowDocument, FlowNode } from '../model/types.ts'

/** Where a field is read: the webhook's payload (no `response`), or the answer of the http node `response`. */
export interface FieldSource {
  response?: string
  field: string
}

export interface OutputLineage {
  node: string
  kind: string
  name?: string
  /** Output field path (lineage notation: `data.id`, `lines[].sku`, `$` for the whole output) → its sources. */
  fields: Record<string, FieldSource[]>
  /** Fields read by the branch conditions and dedupe keys on the way to this node. */
  conditions: ConditionSource[]
}

/** A field that decides whether an output exists: read by a branch's conditions or a dedupe key. */
export interface ConditionSource extends FieldSource {
  by: 'branch' | 'dedupe'
}

/** What flows along an edge: which dataset the payload's paths refer to, and how they map to it. */
interface PathState {
  response?: string
  /** Payload path → source paths; undefined: the payload is the source itself. */
  lineage?: Lineage
  conditions: ConditionSource[]
}

const OUTPUT_KINDS = new Set(['transform', 'http', 'respond'])
/** The whole payload, as an output field and as a read. */
const WHOLE = '$'

export function flowLineage(flow: FlowDocument, kinds: ReadonlyMap<string, NodeKind>): OutputLineage[] {
  const byId = new Map(flow.nodes.map((node) => [node.id, node]))
  const entered = new Set(flow.edges.map((edge) => edge.to))
  const outputs = new Map<string, OutputLineage>()
  const visited = new Set<string>()

  const visit = (node: FlowNode, state: PathState): void => {
    const key = `${node.id}\n${JSON.stringify(state)}`
    if (visited.has(key)) return
    visited.add(key)
    const kind = kinds.get(node.kind)
    const config = node.config
    let conditions = state.conditions
    if (node.kind === 'dedupe' && typeof config.key === 'string') {
      conditions = union(conditions, reads(config.key, state, 'dedupe'))
    }
    const produced = OUTPUT_KINDS.has(node.kind) ? outputOf(node, state) : undefined
    if (produced) record(outputs, node, produced, conditions, state.response)

    for (const edge of flow.edges.filter((e) => e.from === node.id)) {
      const next = byId.get(edge.to)
      if (!next) continue
      const isErrorPort = kind ? portIsError(kind, config, edge.port) : false
      let after: PathState = { ...state, conditions: union(conditions, branchReads(node, edge.port, state)) }
      if (!isErrorPort && node.kind === 'transform' && produced) after = { ...after, lineage: produced }
      if (!isErrorPort && node.kind === 'http') after = { response: node.id, conditions: after.conditions }
      visit(next, after)
    }
  }

  for (const node of flow.nodes) if (!entered.has(node.id)) visit(node, { conditions: [] })
  return flow.nodes.flatMap((node) => {
    const output = outputs.get(node.id)
    return output ? [output] : []
  })
}

/** The lineage of what the node hands out, in payload paths of the state's source. */
function outputOf(node: FlowNode, state: PathState): Lineage | undefined {
  const expression = node.kind === 'transform' ? node.config.expression : node.config.body
  if (typeof expression !== 'string') return node.kind === 'transform' ? undefined : passThrough(state)
  const own = safeLineage(expression)
  return state.lineage ? composeLineage(own, state.lineage) : own
}

function passThrough(state: PathState): Lineage {
  return state.lineage ?? { [WHOLE]: [WHOLE] }
}

function record(
  outputs: Map<string, OutputLineage>,
  node: FlowNode,
  lineage: Lineage,
  conditions: ConditionSource[],
  response: string | undefined,
): void {
  const output = outputs.get(node.id) ?? {
    node: node.id,
    kind: node.kind,
    ...(node.name === undefined ? {} : { name: node.name }),
    fields: {},
    conditions: [],
  }
  const source = (field: string): FieldSource => ({ ...(response === undefined ? {} : { response }), field })
  for (const [field, inputs] of Object.entries(lineage)) {
    output.fields[field] = union(output.fields[field] ?? [], inputs.map(source))
  }
  output.conditions = union(output.conditions, conditions)
  outputs.set(node.id, output)
}

/** What a branch reads to send the payload out of `port`: the conditions of its case and of every case before. */
function branchReads(node: FlowNode, port: string, state: PathState): ConditionSource[] {
  const cases = node.kind === 'branch' ? node.config.cases : undefined
  if (!Array.isArray(cases)) return []
  const taken = cases.findIndex((c: { port?: unknown }) => c.port === port)
  const tried = taken === -1 ? cases : cases.slice(0, taken + 1)
  return tried.flatMap((c: { when?: unknown }) => (typeof c.when === 'string' ? reads(c.when, state, 'branch') : []))
}

/** The input fields an expression reads (all its outputs' reads), mapped to the state's source. */
function reads(expression: string, state: PathState, by: ConditionSource['by']): ConditionSource[] {
  const own = safeLineage(expression)
  const composed = state.lineage ? composeLineage(own, state.lineage) : own
  const paths = [...new Set(Object.values(composed).flat())].sort()
  return paths.map((field) => ({ ...(state.response === undefined ? {} : { response: state.response }), field, by }))
}

function portIsError(kind: NodeKind, config: Record<string, unknown>, port: string): boolean {
  try {
    return (kind.ports(config as never)[port]?.error?.length ?? 0) > 0
  } catch {
    return false
  }
}

/** Lineage is an explanation: an expression it cannot parse reads nothing it can name. */
function safeLineage(expression: string): Lineage {
  try {
    return deriveLineage(expression)
  } catch {
    return {}
  }
}

/** Sources of both lists, each once, in a stable order. */
function union<S extends FieldSource & { by?: string }>(a: readonly S[], b: readonly S[]): S[] {
  const key = (source: S) => `${source.response ?? ''}\n${source.field}\n${source.by ?? ''}`
  const all = new Map<string, S>()
  for (const source of [...a, ...b]) all.set(key(source), source)
  return [...all.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, source]) => source)
}
