/** @module Event schemas from a `schemas/` directory: `conduit/report.completed.v1` → `conduit/report.completed.v1.schema.json`. */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import type { SchemaSource } from '../engine/compile.ts'

export const SCHEMA_SUFFIX = '.schema.json'

export function schemaPath(dir: string, ref: string): string {
  return join(dir, `${ref}${SCHEMA_SUFFIX}`)
}

/** Reads schemas on first use and keeps them; a schema edited on disk takes effect on the next start. */
export function schemaDirectory(dir: string): SchemaSource & { refs(): string[] } {
  const cache = new Map<string, object | undefined>()
  return {
    load(ref) {
      if (ref.includes('..') || !cache.has(ref)) cache.set(ref, readSchema(dir, ref))
      return cache.get(ref)
    },
    refs: () => listSchemaRefs(dir),
  }
}

function readSchema(dir: string, ref: string): object | undefined {
  if (ref.includes('..') || ref.startsWith('/')) return undefined
  try {
    return JSON.parse(readFileSync(schemaPath(dir, ref), 'utf8')) as object
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Error(`schema ${ref}: ${(error as Error).message}`)
  }
}

export function listSchemaRefs(dir: string): string[] {
  const refs: string[] = []
  const visit = (folder: string) => {
    let entries: string[]
    try {
      entries = readdirSync(folder)
    } catch {
      return
    }
    for (const entry of entries.sort()) {
      const path = join(folder, entry)
      if (statSync(path).isDirectory()) visit(path)
      else if (entry.endsWith(SCHEMA_SUFFIX) && entry !== 'flow.schema.json') {
        refs.push(relative(dir, path).slice(0, -SCHEMA_SUFFIX.length).split(sep).join('/'))
      }
    }
  }
  visit(dir)
  return refs
}
