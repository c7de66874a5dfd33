/** @module Small shared pieces of the one visual language: status pills, times, sizes. */
import type { EventStatus } from '../api/types.ts'

export function StatusPill({ status }: { status: EventStatus | string }) {
  return (
    <span className={`pill status-${status}`} data-status={status}>
      {status}
    </span>
  )
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
})

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : timeFormat.format(date)
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—'
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

/** Every screen's title in the browser tab. */
export function pageTitle(title: string): string {
  return `${title} · Mapper Studio`
}
