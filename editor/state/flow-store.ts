/**
 * @module The one store of the flow editor: the flow on the canvas, its selection, undo history, graph-check
 * issues and the last test run. The canvas only draws it; every change goes through an action here.
 */
import { applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from '@xyflow/react'
import { create } from 'zustand'
import { checkFlow, type FlowIssue } from '../../runtime/model/graph-checks.ts'
import type { FlowDocument, FlowNode } from '../../runtime/model/types.ts'
import { findNodeKind, nodeKinds } from '../../runtime/nodes/index.ts'
import type { TestRunResult, TestStep } from '../api/types.ts'
import { layoutPositions } from '../canvas/auto-layout.ts'
import {
  type CanvasEdge,
  type CanvasNode,
  connectionProblem,
  edgeId,
  type FlowMeta,
  freshNodeId,
  INPUT_HANDLE,
  toCanvasEdge,
  toCanvasNode,
  toDocument,
} from './flow-graph.ts'

/** How many steps back undo reaches. */
const HISTORY_LIMIT = 100
/** Edits of one field within this long are one undo step (typing a name is not 20 steps). */
const COALESCE_MS = 1_000
/** Graph checks run this long after the last structural change. */
const CHECK_DELAY_MS = 120

interface Snapshot {
  meta: FlowMeta
  nodes: CanvasNode[]
  edges: CanvasEdge[]
}

export interface TestRunView {
  result: TestRunResult
  /** The last step of each node that ran. */
  byNode: Map<string, TestStep>
  /** Edges the payload went along. */
  taken: Set<string>
  /** The node whose error ended the run, if one did. */
  failedNode: string | undefined
}

export interface FlowEditorState {
  flowId: string | null
  meta: FlowMeta
  nodes: CanvasNode[]
  edges: CanvasEdge[]
  /** The newest version saved on the server (0: never saved). */
  latestVersion: number
  deployedVersion: number | null
  /** Bumped on every change to the document; equal to `savedRevision` when nothing is unsaved. */
  revision: number
  savedRevision: number
  issues: FlowIssue[]
  issuesByNode: Map<string, FlowIssue[]>
  past: Snapshot[]
  future: Snapshot[]
  run: TestRunView | null

  load(doc: FlowDocument, options: { latestVersion: number; deployedVersion: number | null; saved: boolean }): void
  onNodesChange(changes: NodeChange<CanvasNode>[]): void
  onEdgesChange(changes: EdgeChange<CanvasEdge>[]): void
  connect(connection: Connection): string | undefined
  addNode(kind: string, position: { x: number; y: number }): string | undefined
  deleteSelected(): void
  select(nodeIds: readonly string[]): void
  updateConfig(nodeId: string, config: Record<string, unknown>): void
  updateName(nodeId: string, name: string): void
  renameNode(nodeId: string, newId: string): string | undefined
  updateMeta(patch: Partial<FlowMeta>): void
  replaceDocument(doc: FlowDocument): void
  autoLayout(): void
  undo(): void
  redo(): void
  markSaved(version: number): void
  setLatest(latestVersion: number, deployedVersion?: number | null): void
  setDeployed(version: number): void
  showServerIssues(issues: FlowIssue[]): void
  setRun(result: TestRunResult | null): void
  document(): FlowDocument
}

const EMPTY_META: FlowMeta = { schemaVersion: 1, id: '', version: 1, name: '', trigger: { path: '' } }

let checkTimer: ReturnType<typeof setTimeout> | undefined
let dragging = false
let lastCommit: { key: string; at: number } | undefined

function groupIssues(issues: readonly FlowIssue[]): Map<string, FlowIssue[]> {
  const byNode = new Map<string, FlowIssue[]>()
  for (const issue of issues) {
    if (issue.nodeId === undefined) continue
    byNode.set(issue.nodeId, [...(byNode.get(issue.nodeId) ?? []), issue])
  }
  return byNode
}

function nodeMap(nodes: readonly CanvasNode[]): Map<string, CanvasNode> {
  return new Map(nodes.map((n) => [n.id, n]))
}

/** Edges drawn again after a node changed: an error port's edge is styled apart. */
function restyleEdges(edges: readonly CanvasEdge[], nodes: readonly CanvasNode[]): CanvasEdge[] {
  const byId = nodeMap(nodes)
  return edges.map((e) => {
    const fresh = toCanvasEdge({ from: e.source, port: e.sourceHandle ?? '', to: e.target }, byId)
    return fresh.className === e.className ? e : { ...e, className: fresh.className }
  })
}

function runView(result: TestRunResult, edges: readonly CanvasEdge[]): TestRunView {
  const byNode = new Map<string, TestStep>()
  for (const step of result.steps) byNode.set(step.node, step)
  const taken = new Set<string>()
  for (const edge of edges) {
    const step = byNode.get(edge.source)
    if (step && step.port === edge.sourceHandle && byNode.has(edge.target)) taken.add(edge.id)
  }
  const failed = [...result.steps].reverse().find((s) => s.error)
  return { result, byNode, taken, failedNode: failed?.node }
}

export const useFlowStore = create<FlowEditorState>()((set, get) => {
  /** Records the state before a change, for undo; edits with the same key in a row are one step. */
  function commit(key?: string): void {
    const now = Date.now()
    if (key && lastCommit && lastCommit.key === key && now - lastCommit.at < COALESCE_MS) {
      lastCommit.at = now
      return
    }
    lastCommit = key ? { key, at: now } : undefined
    const { meta, nodes, edges, past } = get()
    const snapshot: Snapshot = { meta, nodes: nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), edges }
    set({ past: [...past, snapshot].slice(-HISTORY_LIMIT), future: [] })
  }

  /** The document changed: unsaved from now, a test run no longer describes it, checks run again soon. */
  function changed(structural: boolean): void {
    set((s) => ({ revision: s.revision + 1 }))
    if (!structural) return
    if (get().run) set({ run: null })
    scheduleCheck()
  }

  function scheduleCheck(): void {
    if (checkTimer) clearTimeout(checkTimer)
    checkTimer = setTimeout(() => {
      checkTimer = undefined
      const issues = checkFlow(get().document(), { kinds: nodeKinds })
      set({ issues, issuesByNode: groupIssues(issues) })
    }, CHECK_DELAY_MS)
  }

  function restore(snapshot: Snapshot): void {
    set({ meta: snapshot.meta, nodes: snapshot.nodes, edges: snapshot.edges })
    lastCommit = undefined
    changed(true)
  }

  return {
    flowId: null,
    meta: EMPTY_META,
    nodes: [],
    edges: [],
    latestVersion: 0,
    deployedVersion: null,
    revision: 0,
    savedRevision: 0,
    issues: [],
    issuesByNode: new Map(),
    past: [],
    future: [],
    run: null,

    load(doc, { latestVersion, deployedVersion, saved }) {
      const { nodes: flowNodes, edges: flowEdges, ...meta } = doc
      const byId = new Map<string, FlowNode>(flowNodes.map((n) => [n.id, n]))
      let nodes = flowNodes.map(toCanvasNode)
      const edges = flowEdges.map((e) => toCanvasEdge(e, byId))
      if (flowNodes.some((n) => n.position === undefined)) {
        const positions = layoutPositions(nodes, edges)
        nodes = nodes.map((n) => ({ ...n, position: positions.get(n.id) ?? n.position }))
      }
      const issues = checkFlow(doc, { kinds: nodeKinds })
      set({
        flowId: doc.id,
        meta,
        nodes,
        edges,
        latestVersion,
        deployedVersion,
        revision: 0,
        savedRevision: saved ? 0 : -1,
        issues,
        issuesByNode: groupIssues(issues),
        past: [],
        future: [],
        run: null,
      })
      lastCommit = undefined
    },

    onNodesChange(changes) {
      let moved = false
      let removed = false
      for (const change of changes) {
        if (change.type === 'position') {
          if (change.dragging && !dragging) {
            dragging = true
            commit()
          } else if (change.dragging === false) {
            dragging = false
          }
          if (change.position) moved = true
        } else if (change.type === 'remove') {
          removed = true
        }
      }
      if (removed) commit()
      set({ nodes: applyNodeChanges(changes, get().nodes) })
      if (removed) {
        const ids = new Set(get().nodes.map((n) => n.id))
        set({ edges: get().edges.filter((e) => ids.has(e.source) && ids.has(e.target)) })
      }
      if (moved || removed) changed(removed)
    },

    onEdgesChange(changes) {
      const removed = changes.some((c) => c.type === 'remove')
      if (removed) commit()
      set({ edges: applyEdgeChanges(changes, get().edges) })
      if (removed) changed(true)
    },

    connect(connection) {
      const { nodes, edges } = get()
      const problem = connectionProblem(connection, nodes, edges)
      if (problem) return problem
      commit()
      const edge = toCanvasEdge(
        { from: connection.source, port: connection.sourceHandle ?? '', to: connection.target },
        nodeMap(nodes),
      )
      set({ edges: [...edges, { ...edge, targetHandle: INPUT_HANDLE }] })
      changed(true)
      return undefined
    },

    addNode(kindName, position) {
      const kind = findNodeKind(kindName)
      if (!kind) return undefined
      commit()
      const nodes = get().nodes
      const id = freshNodeId(kind.kind, new Set(nodes.map((n) => n.id)))
      const node: CanvasNode = {
        ...toCanvasNode({ id, kind: kind.kind, config: structuredClone(kind.defaults) as Record<string, unknown> }),
        position,
        selected: true,
      }
      set({ nodes: [...nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node] })
      changed(true)
      return id
    },

    deleteSelected() {
      const { nodes, edges } = get()
      const gone = new Set(nodes.filter((n) => n.selected).map((n) => n.id))
      const keptEdges = edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target))
      if (gone.size === 0 && keptEdges.length === edges.length) return
      commit()
      set({ nodes: nodes.filter((n) => !gone.has(n.id)), edges: keptEdges })
      changed(true)
    },

    select(nodeIds) {
      const wanted = new Set(nodeIds)
      set({
        nodes: get().nodes.map((n) =>
          Boolean(n.selected) === wanted.has(n.id) ? n : { ...n, selected: wanted.has(n.id) },
        ),
        edges: get().edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
      })
    },

    updateConfig(nodeId, config) {
      commit(`config:${nodeId}`)
      const nodes = get().nodes.map((n) =>
        n.id === nodeId ? { ...n, data: { ...n.data, node: { ...n.data.node, config } } } : n,
      )
      set({ nodes, edges: restyleEdges(get().edges, nodes) })
      changed(true)
    },

    updateName(nodeId, name) {
      commit(`name:${nodeId}`)
      set({
        nodes: get().nodes.map((n) => {
          if (n.id !== nodeId) return n
          const { name: _old, ...rest } = n.data.node
          return { ...n, data: { ...n.data, node: name ? { ...rest, name } : rest } }
        }),
      })
      changed(true)
    },

    renameNode(nodeId, newId) {
      if (newId === nodeId) return undefined
      if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(newId)) {
        return 'an id starts with a letter and has only letters, digits, - and _'
      }
      if (get().nodes.some((n) => n.id === newId)) return `another node already has the id "${newId}"`
      commit()
      const nodes = get().nodes.map((n) =>
        n.id === nodeId ? { ...n, id: newId, data: { ...n.data, node: { ...n.data.node, id: newId } } } : n,
      )
      const edges = get().edges.map((e) => {
        if (e.source !== nodeId && e.target !== nodeId) return e
        const source = e.source === nodeId ? newId : e.source
        const target = e.target === nodeId ? newId : e.target
        return { ...e, id: edgeId({ from: source, port: e.sourceHandle ?? '', to: target }), source, target }
      })
      set({ nodes, edges })
      changed(true)
      return undefined
    },

    updateMeta(patch) {
      commit(`meta:${Object.keys(patch).join(',')}`)
      set({ meta: { ...get().meta, ...patch } })
      changed(true)
    },

    replaceDocument(doc) {
      commit()
      const { nodes: flowNodes, edges: flowEdges, ...meta } = doc
      const byId = new Map<string, FlowNode>(flowNodes.map((n) => [n.id, n]))
      let nodes = flowNodes.map(toCanvasNode)
      const edges = flowEdges.map((e) => toCanvasEdge(e, byId))
      if (flowNodes.some((n) => n.position === undefined)) {
        const positions = layoutPositions(nodes, edges)
        nodes = nodes.map((n) => ({ ...n, position: positions.get(n.id) ?? n.position }))
      }
      set({ meta: { ...meta, id: get().meta.id, version: get().meta.version }, nodes, edges })
      changed(true)
    },

    autoLayout() {
      const { nodes, edges } = get()
      if (nodes.length === 0) return
      commit()
      const positions = layoutPositions(nodes, edges)
      set({ nodes: nodes.map((n) => ({ ...n, position: positions.get(n.id) ?? n.position })) })
      changed(false)
    },

    undo() {
      const { past, future, meta, nodes, edges } = get()
      const previous = past.at(-1)
      if (!previous) return
      set({ past: past.slice(0, -1), future: [{ meta, nodes, edges }, ...future] })
      restore(previous)
    },

    redo() {
      const { past, future, meta, nodes, edges } = get()
      const next = future[0]
      if (!next) return
      set({ past: [...past, { meta, nodes, edges }], future: future.slice(1) })
      restore(next)
    },

    markSaved(version) {
      set((s) => ({ meta: { ...s.meta, version }, latestVersion: version, savedRevision: s.revision }))
    },

    setLatest(latestVersion, deployedVersion) {
      set(deployedVersion === undefined ? { latestVersion } : { latestVersion, deployedVersion })
    },

    setDeployed(version) {
      set({ deployedVersion: version })
    },

    showServerIssues(serverIssues) {
      const known = new Set(get().issues.map((i) => i.message))
      const issues = [...get().issues, ...serverIssues.filter((i) => !known.has(i.message))]
      set({ issues, issuesByNode: groupIssues(issues) })
    },

    setRun(result) {
      set({ run: result ? runView(result, get().edges) : null })
    },

    document() {
      const { meta, nodes, edges } = get()
      return toDocument(meta, nodes, edges)
    },
  }
})

/** Whether the canvas holds changes that are not saved. */
export function useDirty(): boolean {
  return useFlowStore((s) => s.revision !== s.savedRevision)
}
