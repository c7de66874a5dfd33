/** @module Writes schemas/flow.schema.json from the flow model and the registered node kinds: `npx tsx scripts/write-flow-schema.ts`. */
import { writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { canonicalJson } from '../runtime/model/canonical-json.ts'
import { flowSchemaFile } from '../runtime/model/flow-schema.ts'
import { nodeKindList } from '../runtime/nodes/index.ts'

export const FLOW_SCHEMA_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../schemas/flow.schema.json')

/** The exact text the schema file holds: canonical JSON, so a regenerated file gives a readable diff. */
export function flowSchemaText(): string {
  return canonicalJson(flowSchemaFile(nodeKindList))
}

export function writeFlowSchema(path = FLOW_SCHEMA_PATH): string {
  writeFileSync(path, flowSchemaText())
  return path
}

// Writes only when run as a script, so tests can import the text without touching the file.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(`wrote ${writeFlowSchema()}`)
}
