/** @module Short notices after an action (saved, deployed, failed), in one corner of every screen. */
import { create } from 'zustand'

export type ToastTone = 'ok' | 'error' | 'info'

interface Toast {
  id: number
  tone: ToastTone
  text: string
}

interface ToastState {
  toasts: Toast[]
  push(tone: ToastTone, text: string): void
  dismiss(id: number): void
}

const TOAST_MS = 5_000
let nextId = 1

export const useToasts = create<ToastState>()((set, get) => ({
  toasts: [],
  push(tone, text) {
    const id = nextId++
    set({ toasts: [...get().toasts, { id, tone, text }] })
    window.setTimeout(() => get().dismiss(id), tone === 'error' ? TOAST_MS * 2 : TOAST_MS)
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) })
  },
}))

export function toast(tone: ToastTone, text: string): void {
  useToasts.getState().push(tone, text)
}

export function Toasts() {
  const toasts = useToasts((s) => s.toasts)
  const dismiss = useToasts((s) => s.dismiss)
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.tone}`} role={t.tone === 'error' ? 'alert' : 'status'}>
          <span>{t.text}</span>
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  )
}
