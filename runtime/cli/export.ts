/**
 * @module `mapper export`: saved flow versions (the latest of each flow, or one) written as canonical flow files,
 * `<out>/<id>.flow.json`, from a running runtime or its store; one line per file, written or unchanged.
 */
import { join } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { FLOW_SUFFIX, writeFlowFile } from '../files/flow-files.ts'
import { reportingFailures } from './api-client.ts'
import { openFlowSource, type SourceOptions, withSourceOptions } from './flow-source.ts'

interface ExportOptions extends SourceOptions {
  flow?: string
  version?: number
  out: string
}

export function exportCommand(): Command {
  return withSourceOptions(new Command('export'))
    .description('write saved flows as canonical files <out>/<id>.flow.json (the latest version of each flow, or one)')
    .option('--flow <id>', 'export only this flow')
    .option('--version <n>', 'with --flow: export this saved version instead of the latest', positiveInteger)
    .option('--out <dir>', 'directory to write the files to', 'flows')
    .action(
      reportingFailures('export', async (options: ExportOptions) => {
        if (options.version !== undefined && options.flow === undefined) throw new Error('--version needs --flow ID')
        const source = await openFlowSource(options)
        try {
          const ids = options.flow === undefined ? await source.flowIds() : [options.flow]
          if (ids.length === 0) console.log('no flows saved yet: nothing to export')
          for (const id of ids) {
            const saved = await source.version(id, options.version)
            if (!saved) {
              const which = options.version === undefined ? 'no saved version' : `no version ${options.version}`
              throw new Error(`flow "${id}" has ${which}`)
            }
            const path = join(options.out, `${id}${FLOW_SUFFIX}`)
            const outcome = writeFlowFile(path, saved.document)
            console.log(`${path}: ${outcome} (${id} v${saved.document.version})`)
          }
        } finally {
          await source.close()
        }
      }),
    )
}

export function positiveInteger(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer')
  return n
}
