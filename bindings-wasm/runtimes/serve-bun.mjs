// Bun: serves app.mjs (or $APP) on 127.0.0.1:$PORT (env from the process environment).
const { default: app } = await import(process.env.APP ?? './app.mjs')
const env = { MARQUE_ROOT_KEY: process.env.MARQUE_ROOT_KEY, UPSTREAM: process.env.UPSTREAM, AUDIENCE: process.env.AUDIENCE }
Bun.serve({ hostname: '127.0.0.1', port: Number(process.env.PORT), fetch: (req) => app.fetch(req, env) })
console.log('listening')
