/** @module Flow documents on disk: `flows/<id>.flow.json`, read with messages that say where a file is broken. */
import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'

export const FLOW_SUFFIX = '.flow.json'

export interface FlowFile {
  path: string
  text: string
  document?: unknown
  /** Why the file is not a JSON document, with line and column. */
  parseError?: string
}

export function listFlowFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith(FLOW_SUFFIX))
      .sort()
      .map((name) => join(dir, name))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

export function readFlowFile(path: string): FlowFile {
  const text = readFileSync(path, 'utf8')
  try {
    return { path, text, document: JSON.parse(text) }
  } catch (error) {
    return { path, text, parseError: describeJsonError(text, error as Error) }
  }
}

/** The id a file's name promises: `flows/conduit-reports.flow.json` → `conduit-reports`. */
export function idFromFileName(path: string): string | undefined {
  const name = basename(path)
  return name.endsWith(FLOW_SUFFIX) ? name.slice(0, -FLOW_SUFFIX.length) : undefined
}

function describeJsonError(text: string, error: Error): string {
  const position = /position (\d+)/.exec(error.message)
  if (!position) return `not JSON: ${error.message}`
  const offset = Number(position[1])
  const before = text.slice(0, offset).split('\n')
  return `not JSON at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}: ${error.message}`
}
