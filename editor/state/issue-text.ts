/** @module How a graph-check issue reads where it is shown: on its node or field, the "where" is already said. */
import type { FlowIssue } from '../../runtime/model/graph-checks.ts'

/** The message without the `node "x" config.y:` that the place of display already tells. */
export function issueText(issue: FlowIssue): string {
  const text = issue.message.replace(/^node "[^"]*"\s*[^:]*:\s*/, '')
  return issue.nodeId === undefined ? text : text.replace(`node "${issue.nodeId}" `, '')
}
