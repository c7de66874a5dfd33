/**
 * @module `mapper diff A B`: the semantic diff of two flow versions — files (either form), or `flow@3 flow@4` read
 * from a runtime (`--server`) or its store (`--data`). Exit 0 when equal, 1 when different, 2 on trouble, like
 * diff(1). Works as `git difftool -x 'npx mapper diff'` (two paths) and as a git diff driver (seven arguments).
 */
import { existsSync } from 'node:fs'
import { Command } from 'commander'
import { diffFlows, type FlowDiff } from '../files/flow-diff.ts'
import { formatFlowDiff } from '../files/flow-diff-text.ts'
import { readFlowFile } from '../files/flow-files.ts'
import type { FlowDocument } from '../model/types.ts'
import { nodeKinds } from '../nodes/index.ts'
import { type FlowSource, openFlowSource, type SourceOptions, withSourceOptions } from './flow-source.ts'

interface DiffOptions extends SourceOptions {
  ignorePositions?: boolean
  json?: boolean
}

/** `conduit-reports@3`, `conduit-reports@latest`. */
const VERSION_REF = /^([a-z0-9][a-z0-9-]*)@(\d+|latest)$/
/** What git passes a diff driver (GIT_EXTERNAL_DIFF, diff.<driver>.command): path old-file old-hex old-mode new-file new-hex new-mode. */
const GIT_DRIVER_ARGS = 7
/** git's name for the missing side of an added or deleted file. */
const NO_FILE = '/dev/null'
const EXIT_DIFFERENT = 1
const EXIT_TROUBLE = 2

interface Side {
  label: string
  document: FlowDocument
}

export function diffCommand(): Command {
  return withSourceOptions(new Command('diff'))
    .description('semantic diff of two flow versions: files, or flow@3 flow@4 from --server (exit 1 when different)')
    .argument('<a>', 'the old side: a flow file, or <flow>@<version> (or @latest)')
    .argument('<b>', 'the new side')
    .argument('[gitArgs...]', 'the rest of what git passes a diff driver (then A is the path, B the old file)')
    .option('--ignore-positions', 'leave node moves out (and out of the exit code)')
    .option('--json', 'print the diff as JSON')
    .action(async (a: string, b: string, gitArgs: string[], options: DiffOptions) => {
      try {
        const driver = gitArgs.length === GIT_DRIVER_ARGS - 2
        const [before, after] = driver ? [b, gitArgs[2] as string] : [a, b]
        const labels = driver ? { before: `a/${a}`, after: `b/${a}` } : { before, after }
        const diff = await diffSides(before, after, labels, options)
        // A diff driver's non-zero exit stops `git diff`; a difference is what it is there to show.
        if (!diff.equal && !driver) process.exitCode = EXIT_DIFFERENT
      } catch (error) {
        console.error(`mapper diff: ${(error as Error).message}`)
        process.exitCode = EXIT_TROUBLE
      }
    })
}

async function diffSides(
  before: string,
  after: string,
  labels: { before: string; after: string },
  options: DiffOptions,
): Promise<FlowDiff> {
  let source: FlowSource | undefined
  const open = async () => {
    source ??= await openFlowSource(options)
    return source
  }
  try {
    const a = await readSide(before, labels.before, open)
    const b = await readSide(after, labels.after, open)
    const diff = diffFlows(a.document, b.document, nodeKinds, { ignorePositions: options.ignorePositions ?? false })
    console.log(
      options.json ? JSON.stringify(diff, null, 2) : formatFlowDiff(diff, { before: a.label, after: b.label }),
    )
    return diff
  } finally {
    await source?.close()
  }
}

async function readSide(arg: string, label: string, open: () => Promise<FlowSource>): Promise<Side> {
  if (arg === NO_FILE) return { label, document: emptyFlow() }
  if (existsSync(arg)) {
    const file = readFlowFile(arg)
    if (file.parseError) throw new Error(`${arg}: ${file.parseError}`)
    return { label, document: asFlow(file.document, arg) }
  }
  const ref = VERSION_REF.exec(arg)
  if (!ref) throw new Error(`${arg}: no such file (and not <flow>@<version>)`)
  const [, flowId, which] = ref as unknown as [string, string, string]
  const saved = await (await open()).version(flowId, which === 'latest' ? undefined : Number(which))
  if (!saved) throw new Error(`flow "${flowId}" has no ${which === 'latest' ? 'saved version' : `version ${which}`}`)
  return { label: `${flowId}@${saved.document.version}`, document: saved.document }
}

function asFlow(document: unknown, path: string): FlowDocument {
  const flow = document as Partial<FlowDocument> | null
  if (!flow || typeof flow !== 'object' || !Array.isArray(flow.nodes) || !Array.isArray(flow.edges)) {
    throw new Error(`${path}: not a flow document (no nodes and edges)`)
  }
  return flow as FlowDocument
}

/** The side of a flow file that git says is not there (added or deleted). */
function emptyFlow(): FlowDocument {
  return { nodes: [], edges: [] } as unknown as FlowDocument
}
