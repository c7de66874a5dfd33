/** @module Auto layout: dagre places the flow left to right, entry first, branches stacked. */
import { Graph, layout } from '@dagrejs/dagre'
import type { CanvasEdge, CanvasNode } from '../state/flow-graph.ts'
import { portsOf } from '../state/flow-graph.ts'

export const NODE_WIDTH = 204
const NODE_HEADER_HEIGHT = 64
const PORT_ROW_HEIGHT = 22
const RANK_GAP = 64
const NODE_GAP = 28

/** The size a node will be drawn at: measured when React Flow has measured it, else estimated from its ports. */
export function nodeSize(node: CanvasNode): { width: number; height: number } {
  if (node.measured?.width && node.measured.height) return { width: node.measured.width, height: node.measured.height }
  const ports = Object.keys(portsOf(node.data.node)).length
  return { width: NODE_WIDTH, height: NODE_HEADER_HEIGHT + Math.max(1, ports) * PORT_ROW_HEIGHT + 8 }
}

/** New positions for every node (top-left corners, as React Flow wants them). */
export function layoutPositions(
  nodes: readonly CanvasNode[],
  edges: readonly CanvasEdge[],
): Map<string, { x: number; y: number }> {
  const graph = new Graph()
  graph.setGraph({ rankdir: 'LR', ranksep: RANK_GAP, nodesep: NODE_GAP, marginx: 0, marginy: 0 })
  graph.setDefaultEdgeLabel(() => ({}))
  for (const node of nodes) graph.setNode(node.id, nodeSize(node))
  for (const edge of edges) {
    if (graph.hasNode(edge.source) && graph.hasNode(edge.target)) graph.setEdge(edge.source, edge.target)
  }
  layout(graph)
  const positions = new Map<string, { x: number; y: number }>()
  for (const node of nodes) {
    const placed = graph.node(node.id) as { x: number; y: number; width: number; height: number } | undefined
    if (!placed) continue
    positions.set(node.id, { x: Math.round(placed.x - placed.width / 2), y: Math.round(placed.y - placed.height / 2) })
  }
  return positions
}
