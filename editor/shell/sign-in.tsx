/** @module The sign-in form: a token from `mapper serve`'s first start, `mapper token`, or MAPPER_ADMIN_TOKEN. */
import { useSession } from '../state/session.ts'

export function SignIn() {
  const notice = useSession((s) => s.notice)
  const status = useSession((s) => s.status)
  const signIn = useSession((s) => s.signIn)
  return (
    <main className="sign-in">
      <div className="sign-in-card">
        <h1 className="brand">
          <span className="brand-mark" aria-hidden="true" /> Mapper Studio
        </h1>
        <p className="muted">
          Sign in with an access token. The runtime prints one on its first start; others come from
          <code>mapper token</code>.
        </p>
        {notice && (
          <p className="form-error" role="alert">
            {notice}
          </p>
        )}
        <form
          onSubmit={(e) => {
            e.preventDefault()
            const value = new FormData(e.currentTarget).get('token')
            if (typeof value === 'string' && value.trim()) void signIn(value.trim())
          }}
        >
          <label className="field">
            <span>Access token</span>
            <input name="token" type="password" autoComplete="off" required ref={(input) => input?.focus()} />
          </label>
          <button type="submit" className="primary" disabled={status === 'checking'}>
            {status === 'checking' ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  )
}
