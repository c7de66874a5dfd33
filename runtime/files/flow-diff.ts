/**
 * @module The semantic diff of two flow versions: nodes added, removed, re-identified, moved, renamed and changed
 * (config field by field, JSONata expressions line by line), edges added, removed and rewired, and changes to the
 * flow's own fields (name, trigger, retention). Pure and browser-safe; `flow-diff-text.ts` prints it.
 *
 * Not changes: the `version` number, the order of nodes and edges in their arrays (the file keeps the user's
 * order; `orderChanged` says when only that differs).
 */
import { canonicalJson } from '../model/canonical-json.ts'
import type { NodeKind } from '../model/node-kind.ts'
import type { FlowDocument, FlowEdge, FlowNode, Position } from '../model/types.ts'
import { expressionFields } from './flow-file-format.ts'
import { type Hunk, unifiedHunks } from './line-diff.ts'

/** One field that differs: `before`/`after` absent when the field is absent on that side. */
export interface FieldChange {
  path: string
  before?: unknown
  after?: unknown
  /** For a JSONata field that spans several lines on either side: the line diff. */
  hunks?: Hunk[]
}

export interface NodeSummary {
  id: string
  kind: string
  name?: string
}

export interface NodeChange extends NodeSummary {
  changes: FieldChange[]
}

export interface FlowDiff {
  /** True when nothing below differs (moves not counted with `ignorePositions`). */
  equal: boolean
  /** The flow's own fields: id, name, description, trigger.*, retention.*, schemaVersion. */
  flow: FieldChange[]
  nodes: {
    added: NodeSummary[]
    removed: NodeSummary[]
    /** A node whose id changed, found as a removed and an added node of one kind with the same config. */
    reidentified: Array<{ from: string; to: string; kind: string }>
    moved: Array<{ id: string; from?: Position; to?: Position }>
    renamed: Array<{ id: string; from?: string; to?: string }>
    /** Kind or config changes, field by field. */
    changed: NodeChange[]
  }
  edges: {
    added: FlowEdge[]
    removed: FlowEdge[]
    /** One port whose single edge now goes elsewhere. */
    rewired: Array<{ from: string; port: string; before: string; after: string }>
  }
  /** Only the order of nodes or edges in the document differs. */
  orderChanged: boolean
}

export interface FlowDiffOptions {
  /** Leave position changes out (and out of `equal`). */
  ignorePositions?: boolean
}

/** Keys of the document that are not the flow's own fields. */
const NOT_FLOW_FIELDS = new Set(['version', 'nodes', 'edges'])

export function diffFlows(
  before: FlowDocument,
  after: FlowDocument,
  kinds: ReadonlyMap<string, NodeKind>,
  options: FlowDiffOptions = {},
): FlowDiff {
  const flow: FieldChange[] = []
  diffValue('', pick(before, NOT_FLOW_FIELDS), pick(after, NOT_FLOW_FIELDS), new Set(), flow)

  const oldNodes = new Map(before.nodes.map((node) => [node.id, node]))
  const newNodes = new Map(after.nodes.map((node) => [node.id, node]))
  let removed = before.nodes.filter((node) => !newNodes.has(node.id))
  let added = after.nodes.filter((node) => !oldNodes.has(node.id))
  const reidentified = matchReidentified(removed, added)
  const renamedIds = new Map(reidentified.map((pair) => [pair.from, pair.to]))
  removed = removed.filter((node) => !renamedIds.has(node.id))
  added = added.filter((node) => !reidentified.some((pair) => pair.to === node.id))

  const moved: FlowDiff['nodes']['moved'] = []
  const renamed: FlowDiff['nodes']['renamed'] = []
  const changed: NodeChange[] = []
  for (const old of before.nodes) {
    const id = renamedIds.get(old.id) ?? old.id
    const now = newNodes.get(id)
    if (!now) continue
    if (!options.ignorePositions && !samePosition(old.position, now.position)) {
      moved.push({ id, ...optional('from', old.position), ...optional('to', now.position) })
    }
    if (old.name !== now.name) renamed.push({ id, ...optional('from', old.name), ...optional('to', now.name) })
    const changes: FieldChange[] = []
    if (old.kind !== now.kind) changes.push({ path: 'kind', before: old.kind, after: now.kind })
    const jsonata = new Set([...expressionFields(old, kinds), ...expressionFields(now, kinds)])
    diffValue('config', old.config, now.config, new Set([...jsonata].map((field) => `config.${field}`)), changes)
    if (changes.length > 0) changed.push({ ...summary(now), changes })
  }

  // Edges compare with the old ids mapped to the new ones, so a re-identified node does not show every edge.
  const oldEdges = before.edges.map((edge) => ({
    from: renamedIds.get(edge.from) ?? edge.from,
    port: edge.port,
    to: renamedIds.get(edge.to) ?? edge.to,
  }))
  const oldKeys = new Set(oldEdges.map(edgeKey))
  const newKeys = new Set(after.edges.map(edgeKey))
  let edgesRemoved = oldEdges.filter((edge) => !newKeys.has(edgeKey(edge)))
  let edgesAdded = after.edges.filter((edge) => !oldKeys.has(edgeKey(edge)))
  const rewired = matchRewired(edgesRemoved, edgesAdded, oldEdges, after.edges)
  const rewiredPorts = new Set(rewired.map((r) => `${r.from}:${r.port}`))
  edgesRemoved = edgesRemoved.filter((edge) => !rewiredPorts.has(`${edge.from}:${edge.port}`))
  edgesAdded = edgesAdded.filter((edge) => !rewiredPorts.has(`${edge.from}:${edge.port}`))

  const diff: FlowDiff = {
    equal: false,
    flow,
    nodes: { added: added.map(summary), removed: removed.map(summary), reidentified, moved, renamed, changed },
    edges: { added: edgesAdded, removed: edgesRemoved, rewired },
    orderChanged: false,
  }
  diff.equal = countChanges(diff) === 0
  diff.orderChanged =
    diff.equal &&
    (before.nodes.map((n) => n.id).join('\n') !== after.nodes.map((n) => n.id).join('\n') ||
      before.edges.map(edgeKey).join('\n') !== after.edges.map(edgeKey).join('\n'))
  return diff
}

/** How many things differ, moves included unless they were left out. */
export function countChanges(diff: FlowDiff): number {
  const { nodes, edges } = diff
  return (
    diff.flow.length +
    nodes.added.length +
    nodes.removed.length +
    nodes.reidentified.length +
    nodes.moved.length +
    nodes.renamed.length +
    nodes.changed.length +
    edges.added.length +
    edges.removed.length +
    edges.rewired.length
  )
}

export function edgeKey(edge: FlowEdge): string {
  return `${edge.from}:${edge.port} → ${edge.to}`
}

/**
 * Field-by-field differences of two JSON values under `path`. Objects recurse by key, arrays of one length by
 * index; anything else that differs is one change. Paths in `jsonata` are expressions: a multi-line one gets hunks.
 */
function diffValue(path: string, a: unknown, b: unknown, jsonata: ReadonlySet<string>, out: FieldChange[]): void {
  if (canonicalJson(a ?? null) === canonicalJson(b ?? null) && (a === undefined) === (b === undefined)) return
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
    for (const key of keys) diffValue(path === '' ? key : `${path}.${key}`, a[key], b[key], jsonata, out)
    return
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((item, index) => {
      diffValue(`${path}[${index}]`, item, b[index], jsonata, out)
    })
    return
  }
  const change: FieldChange = { path, ...optional('before', a), ...optional('after', b) }
  const multiLine = (value: unknown) => typeof value === 'string' && value.includes('\n')
  if (jsonata.has(path) && (multiLine(a) || multiLine(b))) {
    change.hunks = unifiedHunks(typeof a === 'string' ? a : '', typeof b === 'string' ? b : '')
  }
  out.push(change)
}

/** Pairs a removed and an added node of one kind, name and config: the same node under a new id. */
function matchReidentified(removed: FlowNode[], added: FlowNode[]): FlowDiff['nodes']['reidentified'] {
  const pairs: FlowDiff['nodes']['reidentified'] = []
  const taken = new Set<string>()
  for (const old of removed) {
    const body = nodeBody(old)
    const candidates = added.filter((node) => !taken.has(node.id) && nodeBody(node) === body)
    // Only an unambiguous match: two look-alike new nodes could be either.
    if (candidates.length !== 1 || removed.filter((other) => nodeBody(other) === body).length !== 1) continue
    const now = candidates[0] as FlowNode
    taken.add(now.id)
    pairs.push({ from: old.id, to: now.id, kind: now.kind })
  }
  return pairs
}

/** A port whose one edge was replaced by one edge to another node. */
function matchRewired(
  removed: FlowEdge[],
  added: FlowEdge[],
  before: FlowEdge[],
  after: FlowEdge[],
): FlowDiff['edges']['rewired'] {
  const rewired: FlowDiff['edges']['rewired'] = []
  for (const old of removed) {
    const port = (edge: FlowEdge) => edge.from === old.from && edge.port === old.port
    if (before.filter(port).length !== 1 || after.filter(port).length !== 1) continue
    const now = added.find(port)
    if (now) rewired.push({ from: old.from, port: old.port, before: old.to, after: now.to })
  }
  return rewired
}

function nodeBody(node: FlowNode): string {
  return canonicalJson({ kind: node.kind, name: node.name, config: node.config })
}

function summary(node: FlowNode): NodeSummary {
  return { id: node.id, kind: node.kind, ...optional('name', node.name) }
}

function samePosition(a: Position | undefined, b: Position | undefined): boolean {
  return a?.x === b?.x && a?.y === b?.y
}

function pick(document: FlowDocument, leaveOut: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(document).filter(([key]) => !leaveOut.has(key)))
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }
}
