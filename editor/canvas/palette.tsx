/** @module The palette of node kinds: drag one onto the canvas (or press it) to add a node with the kind's defaults. */
import { useReactFlow } from '@xyflow/react'
import { type CSSProperties, type PointerEvent as ReactPointerEvent, useRef, useState } from 'react'
import { nodeKindList } from '../../runtime/nodes/index.ts'
import { useFlowStore } from '../state/flow-store.ts'
import { NODE_WIDTH } from './auto-layout.ts'

/** A press that moves less than this is a click, not a drag. */
const DRAG_THRESHOLD_PX = 4

interface PaletteDrag {
  kind: string
  startX: number
  startY: number
  x: number
  y: number
  moved: boolean
}

export function Palette({ disabled }: { disabled?: boolean }) {
  const { screenToFlowPosition } = useReactFlow()
  const addNode = useFlowStore((s) => s.addNode)
  const [drag, setDrag] = useState<PaletteDrag | null>(null)
  const dragRef = useRef<PaletteDrag | null>(null)
  const placedAtCentre = useRef(0)

  function addAtCentre(kind: string) {
    const pane = document.querySelector('.react-flow')?.getBoundingClientRect()
    if (!pane) return
    const offset = (placedAtCentre.current++ % 8) * 24
    const at = screenToFlowPosition({ x: pane.left + pane.width / 2 + offset, y: pane.top + pane.height / 2 + offset })
    addNode(kind, { x: Math.round(at.x - NODE_WIDTH / 2), y: Math.round(at.y - 40) })
  }

  // Listeners go on the window at once, in the pointerdown handler itself: a release that comes before React
  // re-renders must still end the drag.
  function start(kind: string, e: ReactPointerEvent) {
    if (disabled || e.button !== 0) return
    e.preventDefault()
    dragRef.current = { kind, startX: e.clientX, startY: e.clientY, x: e.clientX, y: e.clientY, moved: false }
    setDrag(dragRef.current)
    const move = (event: PointerEvent) => {
      const current = dragRef.current
      if (!current) return
      const moved =
        current.moved || Math.hypot(event.clientX - current.startX, event.clientY - current.startY) > DRAG_THRESHOLD_PX
      dragRef.current = { ...current, x: event.clientX, y: event.clientY, moved }
      setDrag(dragRef.current)
    }
    const up = (event: PointerEvent) => {
      window.removeEventListener('pointermove', move)
      window.removeEventListener('pointerup', up)
      window.removeEventListener('pointercancel', up)
      const current = dragRef.current
      dragRef.current = null
      setDrag(null)
      if (!current || event.type === 'pointercancel') return
      if (!current.moved) {
        addAtCentre(current.kind)
        return
      }
      const target = document.elementFromPoint(event.clientX, event.clientY)
      if (!target?.closest('.react-flow') || target.closest('.react-flow__panel, .react-flow__minimap')) return
      const at = screenToFlowPosition({ x: event.clientX, y: event.clientY })
      addNode(current.kind, { x: Math.round(at.x - NODE_WIDTH / 2), y: Math.round(at.y - 24) })
    }
    window.addEventListener('pointermove', move)
    window.addEventListener('pointerup', up)
    window.addEventListener('pointercancel', up)
  }

  const ghostKind = drag?.moved ? nodeKindList.find((k) => k.kind === drag.kind) : undefined
  return (
    <aside className="palette" aria-label="Node kinds">
      <h2 className="panel-title">Nodes</h2>
      <p className="hint">Drag onto the canvas</p>
      <ul>
        {nodeKindList.map((kind) => (
          <li key={kind.kind}>
            <button
              type="button"
              className="palette-item"
              data-kind={kind.kind}
              style={{ '--kind-color': kind.color } as CSSProperties}
              title={kind.description}
              disabled={disabled}
              onPointerDown={(e) => start(kind.kind, e)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault()
                  addAtCentre(kind.kind)
                }
              }}
            >
              <span className="kind-dot" aria-hidden="true" />
              <span className="palette-text">
                <span className="palette-title">{kind.title}</span>
                <span className="palette-kind">{kind.kind}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      {ghostKind && drag && (
        <div
          className="palette-ghost"
          style={{ left: drag.x, top: drag.y, '--kind-color': ghostKind.color } as CSSProperties}
          aria-hidden="true"
        >
          {ghostKind.title}
        </div>
      )}
    </aside>
  )
}
