/** @module The frame around every screen: the product name, the screens, who is signed in and as what. */
import { NavLink, Outlet } from 'react-router'
import { useSession } from '../state/session.ts'
import { Toasts } from './toasts.tsx'

const SCREENS = [
  { to: '/flows', label: 'Flows' },
  { to: '/events', label: 'Events' },
  { to: '/dead-letters', label: 'Dead letters' },
  { to: '/monitor', label: 'Monitor' },
]

export function Layout() {
  const me = useSession((s) => s.me)
  const signOut = useSession((s) => s.signOut)
  return (
    <div className="app">
      <header className="app-header">
        <NavLink to="/flows" className="brand">
          <span className="brand-mark" aria-hidden="true" /> Mapper Studio
        </NavLink>
        <nav className="app-nav" aria-label="Screens">
          {SCREENS.map((screen) => (
            <NavLink key={screen.to} to={screen.to} className={({ isActive }) => (isActive ? 'active' : undefined)}>
              {screen.label}
            </NavLink>
          ))}
        </nav>
        <div className="app-user">
          {me && (
            <>
              <span className="user-name">{me.name}</span>
              <span className={`role role-${me.role}`} data-testid="role">
                {me.role}
              </span>
            </>
          )}
          <button type="button" className="ghost" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <div className="app-main">
        <Outlet />
      </div>
      <Toasts />
    </div>
  )
}
