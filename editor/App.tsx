/** @module The editor shell: sign in with a token, then the deployed flows. */
import { useEffect, useState } from 'react'

interface FlowSummary {
  id: string
  name: string
  version: number
  deployedVersion: number | null
}

const TOKEN_KEY = 'mapper.token'

function takeTokenFromAddress(): string | null {
  const url = new URL(window.location.href)
  const token = url.searchParams.get('token')
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token)
    url.searchParams.delete('token')
    window.history.replaceState(null, '', url.toString())
  }
  return sessionStorage.getItem(TOKEN_KEY)
}

export function App() {
  const [token, setToken] = useState<string | null>(() => takeTokenFromAddress())
  const [flows, setFlows] = useState<FlowSummary[] | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    if (!token) return
    fetch('/api/flows', { headers: { authorization: `Bearer ${token}` } })
      .then(async (response) => {
        if (!response.ok)
          throw new Error(response.status === 401 ? 'This token is not valid.' : `HTTP ${response.status}`)
        setFlows((await response.json()) as FlowSummary[])
      })
      .catch((e: Error) => setError(e.message))
  }, [token])

  if (!token) {
    return (
      <main style={{ fontFamily: 'system-ui', maxWidth: 480, margin: '10vh auto' }}>
        <h1>Mapper Studio</h1>
        <form
          onSubmit={(e) => {
            e.preventDefault()
            const value = new FormData(e.currentTarget).get('token')
            if (typeof value === 'string' && value) {
              sessionStorage.setItem(TOKEN_KEY, value)
              setToken(value)
            }
          }}
        >
          <label>
            Access token <input name="token" type="password" autoComplete="off" />
          </label>{' '}
          <button type="submit">Sign in</button>
        </form>
      </main>
    )
  }
  return (
    <main style={{ fontFamily: 'system-ui', maxWidth: 720, margin: '5vh auto' }}>
      <h1>Flows</h1>
      {error && <p role="alert">{error}</p>}
      {!flows && !error && <p>Loading…</p>}
      {flows?.length === 0 && <p>No flows yet: add a file to flows/.</p>}
      <ul>
        {flows?.map((flow) => (
          <li key={flow.id}>
            <strong>{flow.name}</strong> — {flow.id} v{flow.version}
            {flow.deployedVersion === null ? ' (not deployed)' : ` (v${flow.deployedVersion} deployed)`}
          </li>
        ))}
      </ul>
    </main>
  )
}
