// Bun: serves app.mjs on 127.0.0.1:$PORT (env from the process environment).
import app from './app.mjs'
const env = { MARQUE_ROOT_KEY: process.env.MARQUE_ROOT_KEY, UPSTREAM: process.env.UPSTREAM }
Bun.serve({ hostname: '127.0.0.1', port: Number(process.env.PORT), fetch: (req) => app.fetch(req, env) })
console.log('listening')
