/** @module The inspector: the selected node's name, id and config form with its issues and last test step; else the flow's settings. */
import Form from '@rjsf/core'
import type { RJSFSchema, UiSchema } from '@rjsf/utils'
import { customizeValidator } from '@rjsf/validator-ajv8'
import { type CSSProperties, useEffect, useMemo, useState } from 'react'
import { flowDocumentSchema } from '../../runtime/model/flow-schema.ts'
import type { FlowIssue } from '../../runtime/model/graph-checks.ts'
import { findNodeKind } from '../../runtime/nodes/index.ts'
import { formatMs } from '../canvas/flow-node.tsx'
import { JsonBlock } from '../shell/json-tree.tsx'
import type { FlowMeta } from '../state/flow-graph.ts'
import { useFlowStore } from '../state/flow-store.ts'
import { issueText } from '../state/issue-text.ts'
import { ConfigForm, issuesToErrorSchema } from './config-form.tsx'
import { formSchema } from './form-schema.ts'

const NO_ISSUES: FlowIssue[] = []

export interface InspectorProps {
  readOnly: boolean
  secretNames: string[] | null
  onOpenMapping(nodeId: string): void
}

export function Inspector(props: InspectorProps) {
  const selectedIds = useFlowStore((s) =>
    s.nodes
      .filter((n) => n.selected)
      .map((n) => n.id)
      .join('\n'),
  )
  const ids = selectedIds ? selectedIds.split('\n') : []
  if (ids.length > 1) return <MultiSelection count={ids.length} readOnly={props.readOnly} />
  const id = ids[0]
  if (id) return <NodeInspector key={id} nodeId={id} {...props} />
  return <FlowSettings readOnly={props.readOnly} />
}

function MultiSelection({ count, readOnly }: { count: number; readOnly: boolean }) {
  const deleteSelected = useFlowStore((s) => s.deleteSelected)
  return (
    <div className="inspector">
      <h2 className="panel-title">{count} nodes selected</h2>
      <p className="muted">Drag them together, or delete them (Delete key).</p>
      {!readOnly && (
        <button type="button" className="danger" onClick={deleteSelected}>
          Delete {count} nodes
        </button>
      )}
    </div>
  )
}

function NodeInspector({ nodeId, readOnly, secretNames, onOpenMapping }: InspectorProps & { nodeId: string }) {
  const canvasNode = useFlowStore((s) => s.nodes.find((n) => n.id === nodeId))
  const issues = useFlowStore((s) => s.issuesByNode.get(nodeId) ?? NO_ISSUES)
  const step = useFlowStore((s) => s.run?.byNode.get(nodeId))
  const hasRun = useFlowStore((s) => s.run !== null)
  const updateConfig = useFlowStore((s) => s.updateConfig)
  const updateName = useFlowStore((s) => s.updateName)
  const renameNode = useFlowStore((s) => s.renameNode)
  const deleteSelected = useFlowStore((s) => s.deleteSelected)
  const [idDraft, setIdDraft] = useState(nodeId)
  const [idProblem, setIdProblem] = useState<string | undefined>()
  useEffect(() => setIdDraft(nodeId), [nodeId])

  if (!canvasNode) return null
  const node = canvasNode.data.node
  const kind = findNodeKind(node.kind)
  const otherIssues = issues.filter((i) => !i.field?.startsWith('config'))
  const commitId = () => {
    const problem = renameNode(nodeId, idDraft.trim())
    setIdProblem(problem)
    if (problem) setIdDraft(nodeId)
  }

  return (
    <div className="inspector" data-testid="inspector">
      <div className="inspector-head" style={{ '--kind-color': kind?.color } as CSSProperties}>
        <span className="kind-dot" aria-hidden="true" />
        <div>
          <h2 className="panel-title">{kind?.title ?? node.kind}</h2>
          <p className="muted small">{kind?.description}</p>
        </div>
      </div>

      <label className="field">
        <span>Name</span>
        <input
          name="node-name"
          value={node.name ?? ''}
          placeholder={kind?.title}
          readOnly={readOnly}
          onChange={(e) => updateName(nodeId, e.target.value)}
        />
      </label>
      <label className="field">
        <span>Id</span>
        <input
          name="node-id"
          className="code-input"
          value={idDraft}
          readOnly={readOnly}
          onChange={(e) => setIdDraft(e.target.value)}
          onBlur={commitId}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commitId()
          }}
        />
        {idProblem && <span className="form-error">{idProblem}</span>}
      </label>

      {otherIssues.length > 0 && (
        <ul className="issue-list" aria-label="Issues of this node">
          {otherIssues.map((issue) => (
            <li key={issue.message} className="issue">
              {issue.field && <code>{issue.field}</code>} {issueText(issue)}
            </li>
          ))}
        </ul>
      )}

      {hasRun && (
        <section className="inspector-section step-view" aria-label="Test step">
          <h3>Test run</h3>
          {!step && <p className="muted">The payload did not reach this node.</p>}
          {step && (
            <>
              <p className="step-summary">
                {step.skipped ? (
                  <span className="badge badge-skipped">skipped</span>
                ) : step.error ? (
                  <span className="badge badge-error">{step.error.category}</span>
                ) : (
                  <span className="badge badge-ok">→ {step.port ?? 'end'}</span>
                )}{' '}
                <span className="muted">{formatMs(step.durationMs)}</span>
              </p>
              {step.error && <p className="step-error">{step.error.message}</p>}
              {step.error?.details !== undefined && <JsonBlock value={step.error.details} />}
              <h4>Input</h4>
              <JsonBlock value={step.input} empty="the payload as the previous node left it" />
              <h4>Output</h4>
              <JsonBlock value={step.output} empty="the input, unchanged" />
              {step.request && (
                <>
                  <h4>Request it would send</h4>
                  <JsonBlock value={step.request} />
                </>
              )}
            </>
          )}
        </section>
      )}

      {node.kind === 'transform' && (
        <button type="button" className="primary wide" onClick={() => onOpenMapping(nodeId)}>
          Open mapping editor
        </button>
      )}

      {kind ? (
        <section className="inspector-section" aria-label="Configuration">
          <h3>Configuration</h3>
          <ConfigForm
            kind={kind}
            nodeId={nodeId}
            config={node.config}
            issues={issues}
            secretNames={secretNames}
            readOnly={readOnly}
            onChange={(config) => updateConfig(nodeId, config)}
          />
        </section>
      ) : (
        <p className="form-error">Unknown kind “{node.kind}”: this runtime has no such node kind.</p>
      )}
      {!readOnly && (
        <button type="button" className="danger ghost" onClick={deleteSelected}>
          Delete node
        </button>
      )}
    </div>
  )
}

const settingsValidator = customizeValidator()
const settingsSchema: RJSFSchema = (() => {
  const all = formSchema(flowDocumentSchema) as { properties: Record<string, RJSFSchema> }
  const { name, description, trigger, retention } = all.properties
  return {
    type: 'object',
    properties: {
      name: { ...name, title: 'Name' },
      description: { ...description, title: 'Description' },
      trigger: { ...trigger, title: 'Trigger' },
      retention: { ...retention, title: 'Retention' },
    } as Record<string, RJSFSchema>,
    required: ['name', 'trigger'],
  } as RJSFSchema
})()
const settingsUi: UiSchema = {
  'ui:submitButtonOptions': { norender: true },
  'ui:globalOptions': { enableOptionalDataFieldForType: ['object'] },
  description: { 'ui:widget': 'textarea' },
}

/** With nothing selected: the flow's own fields (name, trigger, retention). */
function FlowSettings({ readOnly }: { readOnly: boolean }) {
  const meta = useFlowStore((s) => s.meta)
  const issues = useFlowStore((s) => s.issues)
  const updateMeta = useFlowStore((s) => s.updateMeta)
  const flowIssues = useMemo(() => issues.filter((i) => i.nodeId === undefined), [issues])
  const formData = useMemo(
    () => ({
      name: meta.name,
      description: meta.description,
      trigger: meta.trigger,
      retention: meta.retention,
    }),
    [meta],
  )
  const extraErrors = useMemo(
    () => issuesToErrorSchema(flowIssues.map((i) => ({ ...i, field: i.field ? `config.${i.field}` : 'config' }))),
    [flowIssues],
  )
  return (
    <div className="inspector" data-testid="flow-settings">
      <h2 className="panel-title">Flow settings</h2>
      <p className="muted small">
        <code>{meta.id}</code> — select a node to configure it.
      </p>
      {flowIssues.length > 0 && (
        <ul className="issue-list" aria-label="Issues of the flow">
          {flowIssues.map((issue) => (
            <li key={issue.message} className="issue">
              {issue.message}
            </li>
          ))}
        </ul>
      )}
      <Form
        className="config-form"
        schema={settingsSchema}
        uiSchema={settingsUi}
        formData={formData}
        validator={settingsValidator}
        extraErrors={extraErrors}
        showErrorList={false}
        noHtml5Validate
        readonly={readOnly}
        idPrefix="flow"
        experimental_defaultFormStateBehavior={{ emptyObjectFields: 'skipDefaults' }}
        onChange={(event) => {
          const next = event.formData as Partial<FlowMeta>
          const patch: Partial<FlowMeta> = {}
          for (const key of ['name', 'description', 'trigger', 'retention'] as const) {
            if (JSON.stringify(next[key]) !== JSON.stringify(meta[key])) Object.assign(patch, { [key]: next[key] })
          }
          if (Object.keys(patch).length > 0) updateMeta(patch)
        }}
      />
    </div>
  )
}
