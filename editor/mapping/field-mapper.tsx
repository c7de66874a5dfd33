/**
 * @module The visual field mapper: the sample's fields on the left, the mapping's output fields on the right,
 * a line for every lineage link. Dragging an input field onto an output field maps it.
 */
import { type PointerEvent as ReactPointerEvent, useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react'
import { pathKey } from '../../runtime/engine/lineage-paths.ts'
import type { Lineage } from '../../runtime/model/node-kind.ts'
import { type FieldRow, outputRows, sampleFields } from './sample-fields.ts'

interface Line {
  input: string
  output: string
  x1: number
  y1: number
  x2: number
  y2: number
}

interface Drag {
  input: string
  x: number
  y: number
}

export interface FieldMapperProps {
  sample: unknown
  lineage: Lineage
  /** The preview's output, for showing each output field's value. */
  output: unknown
  readOnly: boolean
  onMap(output: string, input: string): void
  onNewField(input: string): void
}

function key(path: string): string {
  return pathKey(path).join('\u0000')
}

/** The input row a lineage path lands on: the field itself, else its nearest listed parent. */
function rowFor(path: string, rows: ReadonlyMap<string, FieldRow>): FieldRow | undefined {
  const parts = pathKey(path)
  for (let n = parts.length; n > 0; n--) {
    const found = rows.get(parts.slice(0, n).join('\u0000'))
    if (found) return found
  }
  return undefined
}

function valueAt(value: unknown, path: string): unknown {
  let at = value
  for (const part of pathKey(path)) {
    if (at === null || typeof at !== 'object') return undefined
    at = Array.isArray(at)
      ? at.map((item) => (item as Record<string, unknown>)?.[part])
      : (at as Record<string, unknown>)[part]
  }
  return at
}

function short(value: unknown): string {
  if (value === undefined) return ''
  const text = JSON.stringify(value) ?? ''
  return text.length > 30 ? `${text.slice(0, 29)}…` : text
}

export function FieldMapper({ sample, lineage, output, readOnly, onMap, onNewField }: FieldMapperProps) {
  const box = useRef<HTMLDivElement>(null)
  const [lines, setLines] = useState<Line[]>([])
  const [drag, setDrag] = useState<Drag | null>(null)
  const [hover, setHover] = useState<string | null>(null)
  const [dropTarget, setDropTarget] = useState<string | null>(null)

  const inputs = useMemo(() => {
    const rows = sampleFields(sample)
    const known = new Set(rows.map((r) => key(r.path)))
    // Reads the sample does not show (headers, $event, fields absent from this sample) get rows of their own.
    for (const path of new Set(Object.values(lineage).flat())) {
      if (path === '$' || known.has(key(path))) continue
      const byParent = rowFor(path, new Map(rows.map((r) => [key(r.path), r])))
      if (byParent && !path.startsWith('$')) continue
      rows.push({
        path,
        name: path,
        depth: 0,
        preview: path.startsWith('$') ? 'variable' : 'not in this sample',
        leaf: true,
      })
      known.add(key(path))
    }
    return rows
  }, [sample, lineage])
  const outputs = useMemo(() => outputRows(lineage), [lineage])

  const measure = useCallback(() => {
    const container = box.current
    if (!container) return
    const origin = container.getBoundingClientRect()
    const byKey = new Map(inputs.map((r) => [key(r.path), r]))
    const centre = (selector: string, side: 'left' | 'right') => {
      const element = container.querySelector<HTMLElement>(selector)
      if (!element) return undefined
      const rect = element.getBoundingClientRect()
      return {
        x: (side === 'right' ? rect.right : rect.left) - origin.left,
        y: rect.top + rect.height / 2 - origin.top,
      }
    }
    const next: Line[] = []
    for (const [out, reads] of Object.entries(lineage)) {
      const to = centre(`[data-output-path="${CSS.escape(out)}"]`, 'left')
      if (!to) continue
      for (const read of reads) {
        const row = read === '$' ? undefined : rowFor(read, byKey)
        if (!row) continue
        const from = centre(`[data-input-path="${CSS.escape(row.path)}"]`, 'right')
        if (from) next.push({ input: row.path, output: out, x1: from.x, y1: from.y, x2: to.x, y2: to.y })
      }
    }
    setLines(next)
  }, [inputs, lineage])

  useLayoutEffect(() => {
    measure()
    const container = box.current
    if (!container) return
    const observer = new ResizeObserver(() => measure())
    observer.observe(container)
    return () => observer.disconnect()
  }, [measure])

  function startDrag(input: string, e: ReactPointerEvent) {
    if (readOnly || e.button !== 0) return
    e.preventDefault()
    const container = box.current
    if (!container) return
    const toLocal = (event: PointerEvent | ReactPointerEvent) => {
      const origin = container.getBoundingClientRect()
      return { x: event.clientX - origin.left, y: event.clientY - origin.top }
    }
    setDrag({ input, ...toLocal(e) })
    const targetAt = (event: PointerEvent) => {
      const element = document.elementFromPoint(event.clientX, event.clientY)
      return element?.closest<HTMLElement>('[data-output-path], [data-new-field]') ?? null
    }
    const move = (event: PointerEvent) => {
      setDrag({ input, ...toLocal(event) })
      const target = targetAt(event)
      setDropTarget(target ? (target.dataset.outputPath ?? 'new') : null)
    }
    const up = (event: PointerEvent) => {
      window.removeEventListener('pointermove', move)
      window.removeEventListener('pointerup', up)
      setDrag(null)
      setDropTarget(null)
      const target = targetAt(event)
      if (!target) return
      if (target.dataset.outputPath) onMap(target.dataset.outputPath, input)
      else onNewField(input)
    }
    window.addEventListener('pointermove', move)
    window.addEventListener('pointerup', up)
  }

  const from = drag ? lines.find((l) => l.input === drag.input) : undefined
  const dragStart = drag
    ? (() => {
        const element = box.current?.querySelector<HTMLElement>(`[data-input-path="${CSS.escape(drag.input)}"]`)
        const origin = box.current?.getBoundingClientRect()
        if (!element || !origin) return from ? { x: from.x1, y: from.y1 } : undefined
        const rect = element.getBoundingClientRect()
        return { x: rect.right - origin.left, y: rect.top + rect.height / 2 - origin.top }
      })()
    : undefined

  return (
    <div className="mapper" ref={box} data-testid="field-mapper">
      <section className="mapper-column" aria-label="Input fields">
        <h3>Input (sample)</h3>
        {inputs.length === 0 && <p className="muted small">The sample has no fields.</p>}
        {inputs.map((row) => (
          <div
            key={row.path}
            className={`mapper-field input-field${row.leaf ? '' : ' container'}${lines.some((l) => l.input === row.path && l.output === hover) ? ' lit' : ''}`}
            style={{ paddingLeft: 8 + row.depth * 14 }}
            data-input-path={row.path}
            onPointerDown={(e) => startDrag(row.path, e)}
            title={readOnly ? row.path : `Drag ${row.path} onto an output field`}
          >
            <span className="field-name">{row.name}</span>
            <span className="field-preview">{row.preview}</span>
          </div>
        ))}
      </section>
      <div className="mapper-gap" />
      <section className="mapper-column" aria-label="Output fields">
        <h3>Output (mapping)</h3>
        {outputs.map((row) => (
          <div
            key={row.path}
            className={`mapper-field output-field${dropTarget === row.path ? ' drop' : ''}${hover === row.path ? ' lit' : ''}`}
            data-output-path={row.path}
            onPointerEnter={() => setHover(row.path)}
            onPointerLeave={() => setHover(null)}
          >
            <span className="field-name">{row.path}</span>
            <span className="field-preview">{short(valueAt(output, row.path))}</span>
          </div>
        ))}
        {!readOnly && (
          <div className={`mapper-field new-field${dropTarget === 'new' ? ' drop' : ''}`} data-new-field="">
            + drop here for a new field
          </div>
        )}
      </section>
      <svg className="mapper-lines" aria-hidden="true">
        {lines.map((l) => {
          const bend = Math.max(30, (l.x2 - l.x1) / 2)
          return (
            <path
              key={`${l.input}->${l.output}`}
              data-line={`${l.input}->${l.output}`}
              className={`mapper-line${hover === l.output ? ' lit' : ''}`}
              d={`M ${l.x1} ${l.y1} C ${l.x1 + bend} ${l.y1}, ${l.x2 - bend} ${l.y2}, ${l.x2} ${l.y2}`}
            />
          )
        })}
        {drag && dragStart && (
          <path className="mapper-line dragging" d={`M ${dragStart.x} ${dragStart.y} L ${drag.x} ${drag.y}`} />
        )}
      </svg>
    </div>
  )
}
