/** @module The editor's entry point: takes a `?token=` from the address, then draws the app. */
import '@xyflow/react/dist/style.css'
import './styles.css'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { takeTokenFromAddress, useSession } from './state/session.ts'
import { installKindColours } from './theme.ts'

installKindColours()
const initialToken = takeTokenFromAddress()
if (initialToken) void useSession.getState().signIn(initialToken)
const root = document.getElementById('root')
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  )
}
