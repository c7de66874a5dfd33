/** @module A unified line diff (`@@ -a,b +c,d @@`, ` `/`-`/`+` lines) of two texts, as diff -u shows it. Browser-safe. */

/** Unchanged lines shown around each change. */
export const CONTEXT_LINES = 3
/** Above this many line pairs the longest common subsequence is not searched: the texts are shown as replaced. */
const MAX_COMPARED_PAIRS = 4_000_000

export type LineOp = { op: ' ' | '-' | '+'; line: string }

export interface Hunk {
  oldStart: number
  oldLines: number
  newStart: number
  newLines: number
  lines: LineOp[]
}

/** Every line of both texts, in order, marked kept, removed or added (a longest common subsequence). */
export function lineOps(before: string, after: string): LineOp[] {
  const a = before.split('\n')
  const b = after.split('\n')
  if (a.length * b.length > MAX_COMPARED_PAIRS) {
    return [...a.map((line) => ({ op: '-' as const, line })), ...b.map((line) => ({ op: '+' as const, line }))]
  }
  // common[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const common = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1))
  for (let i = a.length - 1; i >= 0; i--) {
    const row = common[i] as Uint32Array
    const below = common[i + 1] as Uint32Array
    for (let j = b.length - 1; j >= 0; j--) {
      row[j] = a[i] === b[j] ? (below[j + 1] as number) + 1 : Math.max(below[j] as number, row[j + 1] as number)
    }
  }
  const ops: LineOp[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ op: ' ', line: a[i] as string })
      i++
      j++
    } else if (j < b.length && (i === a.length || (common[i]?.[j + 1] ?? 0) >= (common[i + 1]?.[j] ?? 0))) {
      ops.push({ op: '+', line: b[j] as string })
      j++
    } else {
      ops.push({ op: '-', line: a[i] as string })
      i++
    }
  }
  return reorderRemovalsFirst(ops)
}

/** Within each run of changes, removed lines before added ones, as diff -u writes them. */
function reorderRemovalsFirst(ops: LineOp[]): LineOp[] {
  const out: LineOp[] = []
  let removed: LineOp[] = []
  let added: LineOp[] = []
  const flush = () => {
    out.push(...removed, ...added)
    removed = []
    added = []
  }
  for (const op of ops) {
    if (op.op === '-') removed.push(op)
    else if (op.op === '+') added.push(op)
    else {
      flush()
      out.push(op)
    }
  }
  flush()
  return out
}

/** The changes of `lineOps` grouped in hunks with CONTEXT_LINES of context; none when the texts are equal. */
export function unifiedHunks(before: string, after: string, context = CONTEXT_LINES): Hunk[] {
  const ops = lineOps(before, after)
  const changed = ops.flatMap((op, index) => (op.op === ' ' ? [] : [index]))
  const hunks: Hunk[] = []
  let k = 0
  while (k < changed.length) {
    const first = changed[k] as number
    let last = first
    // Changes closer than twice the context share a hunk.
    while (k + 1 < changed.length && (changed[k + 1] as number) - last <= 2 * context) last = changed[++k] as number
    k++
    const from = Math.max(0, first - context)
    const to = Math.min(ops.length, last + context + 1)
    let oldLine = 1
    let newLine = 1
    for (const op of ops.slice(0, from)) {
      if (op.op !== '+') oldLine++
      if (op.op !== '-') newLine++
    }
    const lines = ops.slice(from, to)
    const oldLines = lines.filter((op) => op.op !== '+').length
    const newLines = lines.filter((op) => op.op !== '-').length
    hunks.push({
      // diff -u names the line before an empty side: `-0,0` when nothing is left of the old text there.
      oldStart: oldLines === 0 ? oldLine - 1 : oldLine,
      oldLines,
      newStart: newLines === 0 ? newLine - 1 : newLine,
      newLines,
      lines,
    })
  }
  return hunks
}

/** Hunks as text: `@@ -2,3 +2,3 @@` then one line per op. */
export function formatHunks(hunks: readonly Hunk[]): string[] {
  return hunks.flatMap((hunk) => [
    `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`,
    ...hunk.lines.map(({ op, line }) => `${op}${line}`),
  ])
}
