/** @module The one node component: every kind is drawn from its declaration (title, colour, ports). */
import { Handle, type NodeProps, Position, useUpdateNodeInternals } from '@xyflow/react'
import { type CSSProperties, memo, useEffect, useMemo, useRef } from 'react'
import { findNodeKind } from '../../runtime/nodes/index.ts'
import type { TestStep } from '../api/types.ts'
import { type CanvasNode, INPUT_HANDLE, portsOf } from '../state/flow-graph.ts'
import { useFlowStore } from '../state/flow-store.ts'
import { issueText } from '../state/issue-text.ts'

const NO_ISSUES: never[] = []

export const FlowNodeView = memo(function FlowNodeView({ id, data, selected }: NodeProps<CanvasNode>) {
  const { node } = data
  const kind = findNodeKind(node.kind)
  const ports = useMemo(() => Object.entries(portsOf(node)), [node])
  // React Flow measures handles when a node resizes; a renamed port keeps the size, so tell it. Not on mount:
  // React Flow measures new nodes itself, and an early call would fit the view to the nodes measured so far.
  const updateNodeInternals = useUpdateNodeInternals()
  const portNames = ports.map(([name]) => name).join('\n')
  const measuredPorts = useRef(portNames)
  useEffect(() => {
    if (measuredPorts.current === portNames) return
    measuredPorts.current = portNames
    updateNodeInternals(id)
  }, [id, portNames, updateNodeInternals])
  const issues = useFlowStore((s) => s.issuesByNode.get(id) ?? NO_ISSUES)
  const hasRun = useFlowStore((s) => s.run !== null)
  const step = useFlowStore((s) => s.run?.byNode.get(id))
  const failed = useFlowStore((s) => s.run?.failedNode === id)

  const classes = ['flow-node']
  if (selected) classes.push('selected')
  if (issues.length > 0) classes.push('has-issues')
  if (hasRun) classes.push(step ? 'on-path' : 'off-path')
  if (failed) classes.push('failed')
  const style = { '--kind-color': kind?.color ?? 'var(--text-muted)' } as CSSProperties

  return (
    <div className={classes.join(' ')} style={style} data-kind={node.kind}>
      <Handle type="target" position={Position.Left} id={INPUT_HANDLE} className="handle-in" />
      <div className="node-head">
        <span className="node-kind">{kind?.title ?? `unknown kind ${node.kind}`}</span>
        <StatusBadge hasRun={hasRun} step={step} issueCount={issues.length} />
      </div>
      <div className="node-title" title={node.name ?? node.id}>
        {node.name ?? node.id}
      </div>
      <div className="node-id">{node.id}</div>
      {step?.error && (
        <div className="node-error" title={step.error.message}>
          {step.error.category}: {step.error.message}
        </div>
      )}
      {!step?.error && issues[0] && (
        <div className="node-issue" title={issues.map((i) => i.message).join('\n')}>
          {issues[0].field?.startsWith('config.') ? `${issues[0].field.slice('config.'.length)}: ` : ''}
          {issueText(issues[0])}
        </div>
      )}
      {ports.length > 0 && (
        <div className="node-ports">
          {ports.map(([port, spec]) => (
            <div
              key={port}
              className={`node-port${spec.error ? ' port-error' : ''}${step?.port === port ? (step.error ? ' port-failed' : ' port-taken') : ''}`}
              title={spec.error ? `${spec.title ?? port}: errors (${spec.error.join(', ')})` : spec.title}
            >
              <span className="port-name">{port}</span>
              <Handle type="source" position={Position.Right} id={port} className="handle-out" />
            </div>
          ))}
        </div>
      )}
    </div>
  )
})

function StatusBadge({ hasRun, step, issueCount }: { hasRun: boolean; step?: TestStep; issueCount: number }) {
  if (hasRun) {
    if (!step) return <span className="badge badge-muted">not reached</span>
    const ms = `${formatMs(step.durationMs)}`
    if (step.skipped) return <span className="badge badge-skipped">skipped</span>
    if (step.error) return <span className="badge badge-error">✕ {ms}</span>
    return <span className="badge badge-ok">✓ {ms}</span>
  }
  if (issueCount > 0) {
    return (
      <span className="badge badge-error" title={`${issueCount} issue${issueCount === 1 ? '' : 's'}`}>
        ⚠ {issueCount}
      </span>
    )
  }
  return <span className="badge badge-valid" role="img" aria-label="valid" title="no issues" />
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return ''
  if (ms < 1) return `${Math.round(ms * 1000)} µs`
  if (ms < 100) return `${Math.round(ms * 10) / 10} ms`
  return `${Math.round(ms)} ms`
}
