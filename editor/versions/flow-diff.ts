/** @module A readable diff of two flow versions: nodes added, removed and changed (field by field), edges, settings. */
import type { FlowDocument, FlowEdge, FlowNode } from '../../runtime/model/types.ts'

export interface FieldChange {
  /** Dotted path from the node (or the document): `config.cases[0].when`, `trigger.path`. */
  path: string
  before: unknown
  after: unknown
}

export interface NodeChange {
  id: string
  kind: string
  changes: FieldChange[]
}

export interface FlowDiff {
  settings: FieldChange[]
  added: FlowNode[]
  removed: FlowNode[]
  changed: NodeChange[]
  /** Nodes whose only change is their place on the canvas. */
  moved: string[]
  edgesAdded: FlowEdge[]
  edgesRemoved: FlowEdge[]
}

const SETTINGS = ['name', 'description', 'trigger', 'retention'] as const

export function diffFlows(before: FlowDocument, after: FlowDocument): FlowDiff {
  const settings = SETTINGS.flatMap((key) => diffValues(key, before[key], after[key]))
  const old = new Map(before.nodes.map((n) => [n.id, n]))
  const next = new Map(after.nodes.map((n) => [n.id, n]))
  const added = after.nodes.filter((n) => !old.has(n.id))
  const removed = before.nodes.filter((n) => !next.has(n.id))
  const changed: NodeChange[] = []
  const moved: string[] = []
  for (const node of after.nodes) {
    const was = old.get(node.id)
    if (!was) continue
    const changes = [
      ...diffValues('kind', was.kind, node.kind),
      ...diffValues('name', was.name, node.name),
      ...diffValues('config', was.config, node.config),
    ]
    if (changes.length > 0) changed.push({ id: node.id, kind: node.kind, changes })
    else if (diffValues('position', was.position, node.position).length > 0) moved.push(node.id)
  }
  const key = (e: FlowEdge) => `${e.from}\u0000${e.port}\u0000${e.to}`
  const oldEdges = new Set(before.edges.map(key))
  const newEdges = new Set(after.edges.map(key))
  return {
    settings,
    added,
    removed,
    changed,
    moved,
    edgesAdded: after.edges.filter((e) => !oldEdges.has(key(e))),
    edgesRemoved: before.edges.filter((e) => !newEdges.has(key(e))),
  }
}

export function isEmptyDiff(diff: FlowDiff): boolean {
  return (
    diff.settings.length +
      diff.added.length +
      diff.removed.length +
      diff.changed.length +
      diff.moved.length +
      diff.edgesAdded.length +
      diff.edgesRemoved.length ===
    0
  )
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Field-level differences; arrays of the same length compare item by item, others as a whole. */
export function diffValues(path: string, before: unknown, after: unknown): FieldChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
    return keys.flatMap((k) => diffValues(`${path}.${k}`, before[k], after[k]))
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, i) => diffValues(`${path}[${i}]`, item, after[i]))
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }]
}
