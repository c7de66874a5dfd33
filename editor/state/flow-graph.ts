/** @module Between the flow document and React Flow's nodes and edges, plus the graph rules a new edge must keep. */
import type { Edge, Node } from '@xyflow/react'
import type { PortMap } from '../../runtime/model/node-kind.ts'
import type { FlowDocument, FlowEdge, FlowNode } from '../../runtime/model/types.ts'
import { findNodeKind } from '../../runtime/nodes/index.ts'

/** What a canvas node carries: the flow node without its position (React Flow keeps that). */
export interface FlowNodeData extends Record<string, unknown> {
  node: Omit<FlowNode, 'position'>
}
export type CanvasNode = Node<FlowNodeData, 'flow'>
export type CanvasEdge = Edge<Record<string, unknown>>
export type FlowMeta = Omit<FlowDocument, 'nodes' | 'edges'>

/** Every node has one input handle; outputs are named after ports. */
export const INPUT_HANDLE = 'in'

export function edgeId(edge: FlowEdge): string {
  return `e:${edge.from}:${edge.port}:${edge.to}`
}

/** The ports a node has now; a config the kind cannot read yet has none. */
export function portsOf(node: Pick<FlowNode, 'kind' | 'config'>): PortMap {
  const kind = findNodeKind(node.kind)
  if (!kind) return {}
  try {
    return kind.ports(node.config as never)
  } catch {
    return {}
  }
}

export function isErrorPort(node: Pick<FlowNode, 'kind' | 'config'>, port: string): boolean {
  return Boolean(portsOf(node)[port]?.error)
}

export function toCanvasNode(node: FlowNode): CanvasNode {
  const { position, ...rest } = node
  return { id: node.id, type: 'flow', position: position ?? { x: 0, y: 0 }, data: { node: rest } }
}

export function toCanvasEdge(edge: FlowEdge, nodes?: ReadonlyMap<string, FlowNode | CanvasNode>): CanvasEdge {
  const source = nodes?.get(edge.from)
  const flowNode = source && 'data' in source ? source.data.node : source
  const error = flowNode ? isErrorPort(flowNode, edge.port) : false
  return {
    id: edgeId(edge),
    source: edge.from,
    sourceHandle: edge.port,
    target: edge.to,
    targetHandle: INPUT_HANDLE,
    ...(error ? { className: 'edge-error' } : {}),
  }
}

export function toFlowEdge(edge: CanvasEdge): FlowEdge {
  return { from: edge.source, port: edge.sourceHandle ?? '', to: edge.target }
}

/** The document as it would be saved: nodes and edges in the order the user made them. */
export function toDocument(meta: FlowMeta, nodes: readonly CanvasNode[], edges: readonly CanvasEdge[]): FlowDocument {
  return {
    ...meta,
    nodes: nodes.map((n) => ({
      ...n.data.node,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    })),
    edges: edges.map(toFlowEdge),
  }
}

export interface ConnectionAttempt {
  source: string | null
  sourceHandle?: string | null
  target: string | null
  targetHandle?: string | null
}

/** Why an edge may not be drawn, or undefined when it may: the graph checks' rules, applied while dragging. */
export function connectionProblem(
  attempt: ConnectionAttempt,
  nodes: readonly CanvasNode[],
  edges: readonly CanvasEdge[],
): string | undefined {
  const { source, target } = attempt
  if (!source || !target) return 'an edge needs two ends'
  if (source === target) return 'a node cannot feed itself'
  const from = nodes.find((n) => n.id === source)
  const to = nodes.find((n) => n.id === target)
  if (!from || !to) return 'both nodes must exist'
  const port = attempt.sourceHandle ?? ''
  if (!(port in portsOf(from.data.node))) return `node "${source}" has no port "${port}"`
  if ((attempt.targetHandle ?? INPUT_HANDLE) !== INPUT_HANDLE) return 'edges enter a node through its input'
  if (edges.some((e) => e.source === source && e.sourceHandle === port && e.target === target)) {
    return 'this edge exists already'
  }
  if (reaches(target, source, edges)) return `"${target}" already leads to "${source}": the edge would make a cycle`
  return undefined
}

/** Whether `to` can be reached from `from` along edges. */
export function reaches(from: string, to: string, edges: readonly CanvasEdge[]): boolean {
  const next = new Map<string, string[]>()
  for (const e of edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target])
  const seen = new Set<string>([from])
  const queue = [from]
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    if (id === to) return true
    for (const n of next.get(id) ?? []) {
      if (!seen.has(n)) {
        seen.add(n)
        queue.push(n)
      }
    }
  }
  return false
}

/** A node id not yet taken: the kind's name, then `kind-2`, `kind-3`… */
export function freshNodeId(kind: string, taken: ReadonlySet<string>): string {
  if (!taken.has(kind)) return kind
  for (let i = 2; ; i++) {
    const id = `${kind}-${i}`
    if (!taken.has(id)) return id
  }
}
