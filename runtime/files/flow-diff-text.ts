/**
 * @module A FlowDiff as a terminal (and `git difftool`) reads it: one section per part of the flow, one line per
 * added, removed, moved or renamed node and per edge, changed config fields as `path: old → new`, and JSONata
 * expressions as unified line diffs. Browser-safe.
 */
import type { Position } from '../model/types.ts'
import { countChanges, edgeKey, type FieldChange, type FlowDiff, type NodeSummary } from './flow-diff.ts'
import { formatHunks } from './line-diff.ts'

export interface DiffLabels {
  /** What the old side is: a path, or `conduit-reports@3`. */
  before: string
  after: string
}

export function formatFlowDiff(diff: FlowDiff, labels: DiffLabels): string {
  const lines = [`--- ${labels.before}`, `+++ ${labels.after}`]
  if (diff.equal) {
    lines.push(diff.orderChanged ? 'no changes (only the order of nodes or edges differs)' : 'no changes')
    return lines.join('\n')
  }
  if (diff.flow.length > 0) {
    lines.push('flow')
    for (const change of diff.flow) lines.push(...formatField(change, '  '))
  }
  const { nodes, edges } = diff
  const nodeLines = [
    ...nodes.added.map((node) => `  + added    ${describe(node)}`),
    ...nodes.removed.map((node) => `  - removed  ${describe(node)}`),
    ...nodes.reidentified.map((pair) => `  ~ new id   ${pair.from} → ${pair.to} (${pair.kind})`),
    ...nodes.renamed.map((r) => `  ~ renamed  ${r.id}: ${quote(r.from)} → ${quote(r.to)}`),
    ...nodes.moved.map((m) => `  ~ moved    ${m.id}: ${point(m.from)} → ${point(m.to)}`),
    ...nodes.changed.flatMap((node) => [
      `  ~ changed  ${node.id} (${node.kind})`,
      ...node.changes.flatMap((change) => formatField(change, '      ')),
    ]),
  ]
  if (nodeLines.length > 0) lines.push('nodes', ...nodeLines)
  const edgeLines = [
    ...edges.added.map((edge) => `  + ${edgeKey(edge)}`),
    ...edges.removed.map((edge) => `  - ${edgeKey(edge)}`),
    ...edges.rewired.map((r) => `  ~ ${r.from}:${r.port} → ${r.after} (was → ${r.before})`),
  ]
  if (edgeLines.length > 0) lines.push('edges', ...edgeLines)
  lines.push(summaryLine(diff))
  return lines.join('\n')
}

/** `4 changes (nodes: 1 added, 2 moved; edges: 1 rewired)`. */
export function summaryLine(diff: FlowDiff): string {
  const { nodes, edges } = diff
  const nodeParts = [
    count(nodes.added.length, 'added'),
    count(nodes.removed.length, 'removed'),
    count(nodes.reidentified.length, 'with a new id'),
    count(nodes.renamed.length, 'renamed'),
    count(nodes.moved.length, 'moved'),
    count(nodes.changed.length, 'changed'),
  ].filter(Boolean)
  const edgeParts = [
    count(edges.added.length, 'added'),
    count(edges.removed.length, 'removed'),
    count(edges.rewired.length, 'rewired'),
  ].filter(Boolean)
  const parts: string[] = []
  if (diff.flow.length > 0) parts.push(`flow: ${plural(diff.flow.length, 'field')} changed`)
  if (nodeParts.length > 0) parts.push(`nodes: ${nodeParts.join(', ')}`)
  if (edgeParts.length > 0) parts.push(`edges: ${edgeParts.join(', ')}`)
  return `${plural(countChanges(diff), 'change')} (${parts.join('; ')})`
}

function formatField(change: FieldChange, indent: string): string[] {
  if (change.hunks)
    return [`${indent}${change.path}:`, ...formatHunks(change.hunks).map((line) => `${indent}  ${line}`)]
  return [`${indent}${change.path}: ${value(change, 'before')} → ${value(change, 'after')}`]
}

function value(change: FieldChange, side: 'before' | 'after'): string {
  return side in change ? JSON.stringify(change[side]) : '(none)'
}

function describe(node: NodeSummary): string {
  return `${node.id} (${node.kind}${node.name === undefined ? '' : ` ${JSON.stringify(node.name)}`})`
}

function quote(name: string | undefined): string {
  return name === undefined ? '(no name)' : JSON.stringify(name)
}

function point(position: Position | undefined): string {
  return position === undefined ? '(none)' : `(${position.x}, ${position.y})`
}

function count(n: number, what: string): string {
  return n === 0 ? '' : `${n} ${what}`
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
