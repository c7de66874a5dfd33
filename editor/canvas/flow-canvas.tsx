/** @module The canvas: React Flow drawing the store's nodes and edges; every change goes back to the store. */
import {
  Background,
  type Connection,
  Controls,
  type Edge,
  type IsValidConnection,
  MiniMap,
  ReactFlow,
} from '@xyflow/react'
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { findNodeKind } from '../../runtime/nodes/index.ts'
import { toast } from '../shell/toasts.tsx'
import { type CanvasEdge, type CanvasNode, connectionProblem } from '../state/flow-graph.ts'
import { useFlowStore } from '../state/flow-store.ts'
import { FlowNodeView } from './flow-node.tsx'

/** Defined once, outside any component, so React Flow never sees a new object. */
const nodeTypes = { flow: FlowNodeView }
const FIT_VIEW_OPTIONS = { padding: 0.15, maxZoom: 1.2 }
const MULTI_SELECT_KEYS = ['Meta', 'Control']
const PRO_OPTIONS = { hideAttribution: true }
const MINIMAP_STYLE = { width: 168, height: 112 }

function minimapColor(node: CanvasNode): string {
  return findNodeKind(node.data.node.kind)?.color ?? '#94a3b8'
}

export function FlowCanvas({ readOnly }: { readOnly: boolean }) {
  const nodes = useFlowStore((s) => s.nodes)
  const edges = useFlowStore((s) => s.edges)
  const run = useFlowStore((s) => s.run)
  const onNodesChange = useFlowStore((s) => s.onNodesChange)
  const onEdgesChange = useFlowStore((s) => s.onEdgesChange)
  const connect = useFlowStore((s) => s.connect)
  // Fit the flow once when it opens; an empty canvas stays at 100 % so the first node does not fill it.
  const [fitOnOpen] = useState(() => useFlowStore.getState().nodes.length > 0)

  // The flow moves by panning, never by scrolling: focusing a node half outside the canvas would make the browser
  // scroll React Flow's overflow-hidden box, shifting everything off the pointer. Undo any such scroll at once.
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const element = box.current
    if (!element) return
    const unscroll = (event: Event) => {
      const target = event.target
      if (target instanceof HTMLElement && (target.scrollTop !== 0 || target.scrollLeft !== 0)) {
        target.scrollTop = 0
        target.scrollLeft = 0
      }
    }
    element.addEventListener('scroll', unscroll, true)
    return () => element.removeEventListener('scroll', unscroll, true)
  }, [])

  const shownEdges = useMemo<CanvasEdge[]>(() => {
    if (!run) return edges
    return edges.map((e) => {
      const taken = run.taken.has(e.id)
      return {
        ...e,
        animated: taken,
        className: `${e.className ?? ''} ${taken ? 'edge-taken' : 'edge-dim'}`.trim(),
      }
    })
  }, [edges, run])

  const isValidConnection = useCallback<IsValidConnection<Edge>>((c) => {
    const { nodes: all, edges: existing } = useFlowStore.getState()
    return connectionProblem(c, all, existing) === undefined
  }, [])

  const onConnect = useCallback(
    (c: Connection) => {
      const problem = connect(c)
      if (problem) toast('error', problem)
    },
    [connect],
  )

  return (
    <div className="canvas" data-testid="canvas" ref={box}>
      <ReactFlow<CanvasNode, CanvasEdge>
        nodes={nodes}
        edges={shownEdges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        isValidConnection={isValidConnection}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        deleteKeyCode={null}
        multiSelectionKeyCode={MULTI_SELECT_KEYS}
        fitView={fitOnOpen}
        fitViewOptions={FIT_VIEW_OPTIONS}
        minZoom={0.1}
        maxZoom={2}
        connectionRadius={28}
        // A click on a node half under a panel must not pan the canvas under the user's hand.
        autoPanOnNodeFocus={false}
        proOptions={PRO_OPTIONS}
      >
        <Background gap={20} size={1} />
        <MiniMap<CanvasNode> pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={2} style={MINIMAP_STYLE} />
        <Controls showInteractive={false} />
      </ReactFlow>
      {nodes.length === 0 && (
        <div className="canvas-empty">
          <strong>An empty flow</strong>
          <span>Drag a node kind from the palette — a flow usually starts with Verify signature.</span>
        </div>
      )}
    </div>
  )
}
