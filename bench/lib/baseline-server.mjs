// The BASELINE target: a bare node:http server doing what any webhook endpoint must at least do —
// read the raw body, check the conduit-signature (HMAC-SHA256 over `<t>.<body>`, 300 s tolerance),
// JSON.parse, answer 202. No storage: the ceiling a durable runtime is compared with.
// Usage: node baseline-server.mjs <port>   (secret from CONDUIT_WEBHOOK_SECRET)
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'

const port = Number(process.argv[2])
const secret = process.env.CONDUIT_WEBHOOK_SECRET ?? ''
const TOLERANCE_SEC = 300

function verify(header, body) {
  if (typeof header !== 'string') return false
  let t
  const v1 = []
  for (const item of header.split(',')) {
    const eq = item.indexOf('=')
    const key = item.slice(0, eq).trim()
    if (key === 't') t = item.slice(eq + 1).trim()
    else if (key === 'v1') v1.push(item.slice(eq + 1).trim())
  }
  if (!t || Math.abs(Date.now() / 1000 - Number(t)) > TOLERANCE_SEC) return false
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest()
  return v1.some((hex) => {
    const claimed = Buffer.from(hex, 'hex')
    return claimed.length === expected.length && timingSafeEqual(claimed, expected)
  })
}

function send(res, status, json) {
  const text = JSON.stringify(json)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/readyz') return send(res, 200, { ready: true })
  if (req.method !== 'POST') return send(res, 404, { error: { code: 'not_found' } })
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8')
    if (!verify(req.headers['conduit-signature'], body)) {
      return send(res, 401, { error: { code: 'invalid_signature' } })
    }
    try {
      JSON.parse(body)
    } catch {
      return send(res, 400, { error: { code: 'malformed_json' } })
    }
    send(res, 202, { eventId: randomUUID() })
  })
})
server.keepAliveTimeout = 30_000
server.listen(port, '127.0.0.1')
process.on('SIGTERM', () => server.close(() => process.exit(0)))
