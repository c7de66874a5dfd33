/**
 * @module `mapper validate [files…]`: checks flow documents and event schemas; exit 1 with precise messages. Flow
 * files are read in either form (expressions as arrays of lines, as `mapper export` writes them, or as strings).
 */

import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { compileFlow, FlowCompileError } from '../engine/compile.ts'
import { flowFileText } from '../files/flow-file-format.ts'
import { idFromFileName, listFlowFiles, readFlowFile } from '../files/flow-files.ts'
import { listSchemaRefs, SCHEMA_SUFFIX, schemaDirectory } from '../files/schema-directory.ts'
import { createAjv } from '../model/ajv.ts'
import { canonicalJson } from '../model/canonical-json.ts'
import type { FlowDocument } from '../model/types.ts'
import { nodeKinds } from '../nodes/index.ts'

export interface FileReport {
  path: string
  problems: string[]
  notes: string[]
  summary?: string
}

export function validateCommand(): Command {
  return new Command('validate')
    .description('check flow documents (and event schemas); exits 1 when any is invalid')
    .argument('[files...]', 'flow files (*.flow.json) or schema files (*.schema.json); default: every flow in --flows')
    .option('--flows <dir>', 'directory of flow documents', 'flows')
    .option('--schemas <dir>', 'directory of event schemas', 'schemas')
    .action((files: string[], options: { flows: string; schemas: string }) => {
      const targets = files.length > 0 ? files : listFlowFiles(options.flows)
      if (targets.length === 0) {
        console.error(`no flow files found in ${options.flows}/`)
        process.exitCode = 1
        return
      }
      const reports = targets.map((path) => validateFile(path, options.schemas))
      for (const report of reports) printReport(report)
      const failed = reports.filter((r) => r.problems.length > 0).length
      console.log(`\n${reports.length - failed} valid, ${failed} invalid`)
      if (failed > 0) process.exitCode = 1
    })
}

export function validateFile(path: string, schemasDir: string): FileReport {
  if (path.endsWith(SCHEMA_SUFFIX)) return validateSchemaFile(path)
  const report: FileReport = { path, problems: [], notes: [] }
  let file: ReturnType<typeof readFlowFile>
  try {
    file = readFlowFile(path)
  } catch (error) {
    report.problems.push(`cannot read: ${(error as Error).message}`)
    return report
  }
  if (file.parseError) {
    report.problems.push(file.parseError)
    return report
  }
  try {
    compileFlow(file.document, { kinds: nodeKinds, schemas: schemaDirectory(schemasDir) })
  } catch (error) {
    if (error instanceof FlowCompileError) report.problems.push(...error.issues.map((i) => i.message))
    else report.problems.push((error as Error).message)
    return report
  }
  const flow = file.document as FlowDocument
  const expectedId = idFromFileName(path)
  if (expectedId !== undefined && expectedId !== flow.id) {
    report.problems.push(`id: the file is named ${expectedId}.flow.json but the flow's id is "${flow.id}"`)
  }
  // Two texts are canonical: the file form `mapper export` writes, and the API's form (the editor's download).
  if (file.text !== flowFileText(flow, nodeKinds) && file.text !== canonicalJson(file.parsed)) {
    report.notes.push(
      'not in canonical form (key order, 2-space indent, trailing newline); `mapper export` writes it so',
    )
  }
  const version = file.numbered ? ` v${flow.version}` : ''
  report.summary = `${flow.id}${version}, ${flow.nodes.length} nodes, POST /hooks/${flow.trigger.path}`
  return report
}

function validateSchemaFile(path: string): FileReport {
  const report: FileReport = { path, problems: [], notes: [] }
  try {
    const schema = JSON.parse(readFileSync(path, 'utf8')) as object
    const ajv = createAjv()
    const dir = path.split('/').slice(0, -2).join('/') || '.'
    for (const ref of listSchemaRefs(dir)) {
      const other = schemaDirectory(dir).load(ref)
      if (other) ajv.addSchema(other, ref)
    }
    ajv.compile(schema)
    report.summary = 'JSON Schema compiles'
  } catch (error) {
    report.problems.push((error as Error).message)
  }
  return report
}

function printReport(report: FileReport): void {
  if (report.problems.length === 0) {
    console.log(`✓ ${report.path}${report.summary ? `  (${report.summary})` : ''}`)
  } else {
    console.log(`✗ ${report.path}`)
    for (const problem of report.problems) console.log(`    ${problem}`)
  }
  for (const note of report.notes) console.log(`    note: ${note}`)
}
