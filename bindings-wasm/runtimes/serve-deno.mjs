// Deno: serves app.mjs (or $APP) on 127.0.0.1:$PORT (env from the process environment).
const { default: app } = await import(Deno.env.get('APP') ?? './app.mjs')
const env = { MARQUE_ROOT_KEY: Deno.env.get('MARQUE_ROOT_KEY'), UPSTREAM: Deno.env.get('UPSTREAM'), AUDIENCE: Deno.env.get('AUDIENCE') }
Deno.serve({ hostname: '127.0.0.1', port: Number(Deno.env.get('PORT')), onListen: () => console.log('listening') }, (req) => app.fetch(req, env))
