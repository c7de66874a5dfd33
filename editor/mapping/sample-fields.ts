/** @module The fields of a sample payload as rows for the mapper, in lineage path notation. */
import { segment } from '../../runtime/engine/lineage-paths.ts'

export interface FieldRow {
  /** Lineage notation: `data.reportId`, `items.sku` (array items share their array's path). */
  path: string
  name: string
  depth: number
  /** A short preview of the value, or the container's type. */
  preview: string
  leaf: boolean
}

const PREVIEW_CHARS = 28

function preview(value: unknown): string {
  if (Array.isArray(value)) return `array(${value.length})`
  if (value !== null && typeof value === 'object') return 'object'
  const text = JSON.stringify(value) ?? 'undefined'
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text
}

/** Every field of the sample, parents before children; an array's fields come from its first object item. */
export function sampleFields(sample: unknown): FieldRow[] {
  const rows: FieldRow[] = []
  const walk = (value: unknown, path: string, depth: number) => {
    const item = Array.isArray(value)
      ? value.find((v) => v !== null && typeof v === 'object' && !Array.isArray(v))
      : value
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return
    for (const [name, child] of Object.entries(item as Record<string, unknown>)) {
      const childPath = path ? `${path}.${segment(name)}` : segment(name)
      const container = child !== null && typeof child === 'object'
      rows.push({ path: childPath, name, depth, preview: preview(child), leaf: !container })
      if (container) walk(child, childPath, depth + 1)
    }
  }
  walk(sample, '', 0)
  return rows
}

/** The output fields of a lineage, as rows. */
export function outputRows(lineage: Record<string, string[]>): FieldRow[] {
  return Object.keys(lineage).map((path) => ({
    path,
    name: path,
    depth: 0,
    preview: '',
    leaf: true,
  }))
}
