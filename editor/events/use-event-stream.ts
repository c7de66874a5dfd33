/** @module GET /api/stream as a hook: news of events and step results while a screen is open. */
import { useEffect, useRef, useState } from 'react'
import { streamUrl } from '../api/client.ts'
import type { StreamNews } from '../api/types.ts'

export type StreamState = 'connecting' | 'live' | 'reconnecting'

export function useEventStream(flow: string | undefined, onNews: (news: StreamNews) => void): StreamState {
  const [state, setState] = useState<StreamState>('connecting')
  const handler = useRef(onNews)
  handler.current = onNews
  useEffect(() => {
    const url = flow ? `${streamUrl()}&flow=${encodeURIComponent(flow)}` : streamUrl()
    const source = new EventSource(url)
    const receive = (message: MessageEvent<string>) => {
      try {
        handler.current(JSON.parse(message.data) as StreamNews)
      } catch {
        // A message that is not JSON is not news.
      }
    }
    source.addEventListener('event', receive)
    source.addEventListener('steps', receive)
    source.onopen = () => setState('live')
    // EventSource reconnects by itself (the server's `retry:`); show that it is trying.
    source.onerror = () => setState('reconnecting')
    return () => source.close()
  }, [flow])
  return state
}
