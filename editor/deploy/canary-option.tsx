/** @module The deploy dialog's canary option: deploy the candidate to a share of new events beside the deployed version. */
import './canary.css'

/** What the option starts at when ticked: a small share first. */
export const DEFAULT_CANARY_PERCENT = 10

/** `percent` null: a plain deploy. */
export function CanaryOption(props: {
  version: number
  deployedVersion: number
  percent: number | null
  onChange(percent: number | null): void
}) {
  const on = props.percent !== null
  return (
    <section className="canary-option" aria-labelledby="canary-title">
      <h3 id="canary-title">Canary</h3>
      <p className="muted">
        Instead of every new event, v{props.version} takes a share of them while v{props.deployedVersion} keeps the
        rest; each event goes to one version by its id, so a redelivery goes where the first delivery went. The monitor
        splits the figures by version; promote or roll back from the banner on the canvas.
      </p>
      <div className="canary-controls">
        <label>
          <input
            type="checkbox"
            name="canary"
            checked={on}
            onChange={(e) => props.onChange(e.target.checked ? DEFAULT_CANARY_PERCENT : null)}
          />{' '}
          Deploy as a canary
        </label>
        <label>
          Share of new events{' '}
          <input
            type="number"
            name="canary-percent"
            min={1}
            max={99}
            disabled={!on}
            value={props.percent ?? DEFAULT_CANARY_PERCENT}
            onChange={(e) => props.onChange(Math.min(99, Math.max(1, Math.round(Number(e.target.value)) || 1)))}
          />{' '}
          %
        </label>
      </div>
    </section>
  )
}
