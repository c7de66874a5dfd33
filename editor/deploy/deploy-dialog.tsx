/** @module The deploy dialog: which version replaces which, an impact preview on the stored events, then Deploy. */
import { useState } from 'react'
import { api } from '../api/client.ts'
import { toast } from '../shell/toasts.tsx'
import { CanaryOption } from './canary-option.tsx'
import { ImpactPreviewPanel } from './impact-preview.tsx'

export function DeployDialog(props: {
  flowId: string
  /** The candidate. */
  version: number
  /** What takes the webhooks now. */
  deployedVersion: number
  /** `canary`: the version went out as a canary, beside the deployed one (which stays deployed). */
  onDeployed(version: number, canary?: boolean): void
  onClose(): void
}) {
  const [deploying, setDeploying] = useState(false)
  const [canaryPercent, setCanaryPercent] = useState<number | null>(null)

  async function deploy() {
    setDeploying(true)
    try {
      if (canaryPercent !== null) {
        await api.deployFlow(props.flowId, props.version, canaryPercent)
        toast('ok', `Version ${props.version} now takes ${canaryPercent} % of new webhooks`)
        props.onDeployed(props.version, true)
        return
      }
      await api.deployFlow(props.flowId, props.version)
      toast('ok', `Version ${props.version} now takes new webhooks`)
      props.onDeployed(props.version)
    } catch (e) {
      toast('error', `Not deployed: ${(e as Error).message}`)
      setDeploying(false)
    }
  }

  return (
    <div className="modal-backdrop">
      <div className="modal deploy-dialog" role="dialog" aria-modal="true" aria-labelledby="deploy-title">
        <h2 id="deploy-title">
          Deploy v{props.version} of {props.flowId}
        </h2>
        <p>
          v{props.deployedVersion} takes the webhooks now. Once deployed, v{props.version} takes every new webhook;
          events already received finish on the version that started them.
        </p>
        <ImpactPreviewPanel flowId={props.flowId} version={props.version} />
        <CanaryOption
          version={props.version}
          deployedVersion={props.deployedVersion}
          percent={canaryPercent}
          onChange={setCanaryPercent}
        />
        <div className="button-row">
          <button type="button" className="ghost" onClick={props.onClose} disabled={deploying}>
            Cancel
          </button>
          <button type="button" className="accent" onClick={() => void deploy()} disabled={deploying}>
            {deploying
              ? 'Deploying…'
              : canaryPercent !== null
                ? `Start canary: v${props.version} on ${canaryPercent} %`
                : `Deploy v${props.version}`}
          </button>
        </div>
      </div>
    </div>
  )
}
