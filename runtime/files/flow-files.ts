/** @module Flow documents on disk: `flows/<id>.flow.json`, read with messages that say where a file is broken. */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { NodeKind } from '../model/node-kind.ts'
import type { FlowDocument } from '../model/types.ts'
import { nodeKinds } from '../nodes/index.ts'
import { documentFromFile, flowFileText, UNNUMBERED_VERSION } from './flow-file-format.ts'

export const FLOW_SUFFIX = '.flow.json'

export interface FlowFile {
  path: string
  text: string
  /** The file as JSON.parse reads it (expressions may be arrays of lines). */
  parsed?: unknown
  /**
   * The flow document it holds, as the API and the store hold it: expressions as strings, and a version
   * (the file's, or UNNUMBERED_VERSION when it has none, for the checks; whoever saves it numbers it).
   */
  document?: unknown
  /** Whether the file itself has a `version`. */
  numbered?: boolean
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

/** Reads a flow file in either form: the file form `mapper export` writes, or the API's (expressions as strings). */
export function readFlowFile(path: string, kinds: ReadonlyMap<string, NodeKind> = nodeKinds): FlowFile {
  const text = readFileSync(path, 'utf8')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return { path, text, parseError: describeJsonError(text, error as Error) }
  }
  const document = documentFromFile(parsed, kinds)
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return { path, text, parsed, document, numbered: false }
  }
  const numbered = 'version' in document
  return { path, text, parsed, document: numbered ? document : { ...document, version: UNNUMBERED_VERSION }, numbered }
}

export type WriteOutcome = 'written' | 'unchanged'

/** Writes a document in the file form; leaves a file that already holds exactly that text alone. */
export function writeFlowFile(
  path: string,
  document: FlowDocument,
  kinds: ReadonlyMap<string, NodeKind> = nodeKinds,
): WriteOutcome {
  const text = flowFileText(document, kinds)
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return 'unchanged'
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
  return 'written'
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
