/**
 * @module The filters the lists and the monitor keep in their address (`?flow=…&status=…`), so that a
 * filtered screen can be shared and reopened; and the one "Flow" filter they all show.
 */
import { useSearchParams } from 'react-router'
import { api } from '../api/client.ts'
import { useResource } from './use-resource.ts'

/** A filter's value in the address ('' when unset), and a setter that replaces the address entry. */
export function useAddressFilter(name: string): [string, (value: string) => void] {
  const [search, setSearch] = useSearchParams()
  const set = (value: string) =>
    setSearch(
      (current) => {
        const next = new URLSearchParams(current)
        if (value) next.set(name, value)
        else next.delete(name)
        return next
      },
      { replace: true },
    )
  return [search.get(name) ?? '', set]
}

/** "all flows" or one of the runtime's flows, by name. */
export function FlowFilter({ value, onChange }: { value: string; onChange: (flow: string) => void }) {
  const flows = useResource((signal) => api.listFlows(signal), [])
  return (
    <label className="inline-field">
      <span>Flow</span>
      <select name="flow" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">all flows</option>
        {flows.data?.map((f) => (
          <option key={f.id} value={f.id}>
            {f.name}
          </option>
        ))}
      </select>
    </label>
  )
}
