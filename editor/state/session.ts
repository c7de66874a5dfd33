/** @module The signed-in token (kept for the browser session) and what its role may do. */
import { create } from 'zustand'
import { type ApiError, api, configureApiClient } from '../api/client.ts'
import type { Me, Role } from '../api/types.ts'

export const TOKEN_KEY = 'mapper.token'

const ROLE_ORDER: readonly Role[] = ['viewer', 'editor', 'operator', 'admin']

/** What the editor offers; each maps to the smallest role the API accepts for it (SPEC §6). */
export type Ability = 'save' | 'test' | 'previewReplay' | 'deploy' | 'replay' | 'secrets'
const ABILITY_ROLE: Record<Ability, Role> = {
  save: 'editor',
  test: 'editor',
  previewReplay: 'editor',
  deploy: 'operator',
  replay: 'operator',
  secrets: 'operator',
}

export function roleAllows(role: Role | undefined, ability: Ability): boolean {
  if (!role) return false
  return ROLE_ORDER.indexOf(role) >= ROLE_ORDER.indexOf(ABILITY_ROLE[ability])
}

interface SessionState {
  token: string | null
  me: Me | null
  status: 'signed-out' | 'checking' | 'signed-in'
  /** Why the last sign-in ended, shown on the sign-in form. */
  notice: string | null
  signIn(token: string): Promise<void>
  signOut(notice?: string): void
}

/** `?token=` on any address signs in; the token then leaves the address bar. */
export function takeTokenFromAddress(): string | null {
  const url = new URL(window.location.href)
  const token = url.searchParams.get('token')
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token)
    url.searchParams.delete('token')
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`)
  }
  return sessionStorage.getItem(TOKEN_KEY)
}

export const useSession = create<SessionState>()((set, get) => ({
  token: null,
  me: null,
  status: 'signed-out',
  notice: null,
  async signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token)
    set({ token, status: 'checking', notice: null })
    try {
      const me = await api.me()
      if (get().token === token) set({ me, status: 'signed-in' })
    } catch (error) {
      const e = error as ApiError
      if (get().token !== token) return
      if (e.status === 401) return // the 401 handler signed out already
      sessionStorage.removeItem(TOKEN_KEY)
      set({ token: null, me: null, status: 'signed-out', notice: e.message })
    }
  },
  signOut(notice) {
    sessionStorage.removeItem(TOKEN_KEY)
    set({ token: null, me: null, status: 'signed-out', notice: notice ?? null })
  },
}))

configureApiClient(
  () => useSession.getState().token,
  (error) => {
    const { token, status, signOut } = useSession.getState()
    if (!token) return
    signOut(status === 'checking' ? `Not signed in: ${error.message}` : `Signed out: ${error.message}`)
  },
)

/** Whether the signed-in role may do this. */
export function useCan(ability: Ability): boolean {
  return useSession((s) => roleAllows(s.me?.role, ability))
}
