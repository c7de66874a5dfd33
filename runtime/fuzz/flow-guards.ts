/** @module The verify and validate nodes a delivery meets first, walking a flow document from its entry. */
import type { FlowDocument, FlowNode } from '../model/types.ts'

export interface FlowGuards {
  /** How deliveries are signed. */
  verify?: FlowNode
  /** The schema check whose errors the sender sees in a 422. */
  validate?: FlowNode
}

/** Breadth-first from the entry (the node no edge enters): the first verify and the first validate. */
export function flowGuards(doc: FlowDocument): FlowGuards {
  const entered = new Set(doc.edges.map((edge) => edge.to))
  const byId = new Map(doc.nodes.map((node) => [node.id, node]))
  const queue = doc.nodes.filter((node) => !entered.has(node.id))
  const seen = new Set(queue.map((node) => node.id))
  const guards: FlowGuards = {}
  for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
    if (node.kind === 'verify') guards.verify ??= node
    if (node.kind === 'validate') guards.validate ??= node
    for (const edge of doc.edges) {
      const next = edge.from === node.id ? byId.get(edge.to) : undefined
      if (next && !seen.has(next.id)) {
        seen.add(next.id)
        queue.push(next)
      }
    }
  }
  return guards
}
