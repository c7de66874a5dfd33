/**
 * @module Admin API: GET /api/stream — server-sent events of new events and step results as they happen.
 *
 * Browsers' EventSource cannot send headers, so the token may come as `?access_token=` (auth accepts it).
 * On a shared PostgreSQL store the news of the other processes comes too, marked `relayed` (store-news.ts).
 */
import { restoreStepInputs } from '../../engine/step-inputs.ts'
import type { BusNews } from '../event-bus.ts'
import { queryParameter } from './events.ts'
import { defineRoutes } from './route.ts'

/** A comment line this often keeps proxies and load balancers from closing an idle stream. */
export const KEEP_ALIVE_MS = 15_000
/** How long a browser waits before reconnecting a dropped stream. */
const RECONNECT_MS = 3_000

export const streamRoutes = defineRoutes([
  {
    method: 'get',
    path: '/stream',
    role: 'viewer',
    summary:
      'Server-sent events: `event` news for every answered delivery and replay, `steps` for work results; ' +
      'news from other processes on the same database is marked `relayed` and its `steps` are empty (read the event)',
    query: {
      flow: { type: 'string', description: 'only this flow' },
      access_token: { type: 'string', description: 'the token, for clients that cannot send headers (EventSource)' },
    },
    responses: { 200: 'text/event-stream' },
    stream: true,
    handler(req, res, { deps }) {
      const flow = queryParameter(req.query as Record<string, unknown>, 'flow')
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // nginx buffers responses unless told not to: news would arrive in lumps.
        'x-accel-buffering': 'no',
      })
      res.write(`retry: ${RECONNECT_MS}\n: connected\n\n`)
      const send = function sendNews(news: BusNews) {
        if (flow !== undefined && news.flowId !== flow) return
        const data = news.type === 'steps' ? { ...news, steps: restoreStepInputs(news.steps) } : news
        res.write(`event: ${news.type}\ndata: ${JSON.stringify(data)}\n\n`)
      }
      const unsubscribe = deps.bus.subscribe(send)
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS)
      keepAlive.unref()
      const stopListening = deps.bus.onClose(() => res.end())
      const close = () => {
        clearInterval(keepAlive)
        unsubscribe()
        stopListening()
      }
      req.on('close', close)
      res.on('error', close)
    },
  },
])
