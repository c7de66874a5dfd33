/** @module A JSON value drawn as a tree whose rows carry their field path, so lineage can point at them. */
import { memo } from 'react'
import { pathKey, segment } from '../../runtime/engine/lineage-paths.ts'

export interface JsonTreeProps {
  value: unknown
  /** Paths (lineage notation) to highlight; a path also lights everything below it. */
  highlight?: ReadonlySet<string>
  /** Makes leaf rows clickable, with their path. */
  onPick?: (path: string) => void
  /** The path currently picked, drawn as selected. */
  picked?: string
  label?: string
}

/** `data.items[].sku` and `data.items.sku` are the same field for drawing. */
export function samePathKey(path: string): string {
  return pathKey(path).join('\u0000')
}

function lit(path: string, highlight: ReadonlySet<string> | undefined): 'exact' | 'inside' | 'holds' | undefined {
  if (!highlight || highlight.size === 0) return undefined
  const key = pathKey(path)
  let result: 'inside' | 'holds' | undefined
  for (const candidate of highlight) {
    const other = pathKey(candidate)
    const common = Math.min(key.length, other.length)
    let same = true
    for (let i = 0; i < common; i++) if (key[i] !== other[i] && other[i] !== '*' && other[i] !== '**') same = false
    if (!same) continue
    if (key.length === other.length) return 'exact'
    if (key.length > other.length) result = 'inside'
    else result ??= 'holds'
  }
  return result
}

function childPath(parent: string, name: string): string {
  return parent === '$' ? segment(name) : `${parent}.${segment(name)}`
}

export const JsonTree = memo(function JsonTree({ value, highlight, onPick, picked, label }: JsonTreeProps) {
  return (
    <div className="json-tree" role="tree" aria-label={label}>
      <JsonRows value={value} path="$" depth={0} highlight={highlight} onPick={onPick} picked={picked} />
    </div>
  )
})

interface RowsProps {
  value: unknown
  path: string
  depth: number
  highlight: ReadonlySet<string> | undefined
  onPick: ((path: string) => void) | undefined
  picked: string | undefined
  name?: string
}

function JsonRows({ value, path, depth, highlight, onPick, picked, name }: RowsProps) {
  const isObject = value !== null && typeof value === 'object'
  const mark = path === '$' ? undefined : lit(path, highlight)
  const indent = { paddingLeft: `${depth * 14 + 6}px` }
  if (!isObject) {
    const classes = ['jt-row', 'jt-leaf']
    if (mark) classes.push(`jt-${mark}`)
    if (picked === path) classes.push('jt-picked')
    const content = (
      <>
        {name !== undefined && <span className="jt-key">{name}</span>}
        {name !== undefined && <span className="jt-colon">: </span>}
        <span className={`jt-value jt-${value === null ? 'null' : typeof value}`}>{JSON.stringify(value)}</span>
      </>
    )
    return onPick && path !== '$' ? (
      <button type="button" className={classes.join(' ')} style={indent} data-path={path} onClick={() => onPick(path)}>
        {content}
      </button>
    ) : (
      <div className={classes.join(' ')} style={indent} data-path={path}>
        {content}
      </div>
    )
  }
  const entries: Array<[string, unknown, string]> = Array.isArray(value)
    ? value.map((item, i) => [String(i), item, path === '$' ? '$' : path])
    : Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, v, childPath(path, k)])
  const open = Array.isArray(value) ? '[' : '{'
  const close = Array.isArray(value) ? ']' : '}'
  return (
    <>
      <div className={`jt-row jt-branch${mark ? ` jt-${mark}` : ''}`} style={indent} data-path={path}>
        {name !== undefined && <span className="jt-key">{name}</span>}
        {name !== undefined && <span className="jt-colon">: </span>}
        <span className="jt-punct">{open}</span>
        {entries.length === 0 && <span className="jt-punct">{close}</span>}
      </div>
      {entries.map(([key, child, childP]) => (
        <JsonRows
          key={key}
          value={child}
          path={childP}
          depth={depth + 1}
          highlight={highlight}
          onPick={onPick}
          picked={picked}
          name={Array.isArray(value) ? `[${key}]` : key}
        />
      ))}
      {entries.length > 0 && (
        <div className="jt-row" style={indent}>
          <span className="jt-punct">{close}</span>
        </div>
      )}
    </>
  )
}

/** Pretty JSON in a scrollable block. */
export function JsonBlock({ value, empty = 'nothing' }: { value: unknown; empty?: string }) {
  if (value === undefined) return <p className="muted">{empty}</p>
  return <pre className="json-block">{JSON.stringify(value, null, 2)}</pre>
}
