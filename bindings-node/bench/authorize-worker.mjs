// A worker_threads worker for bench.mjs: its own Verifier (Node objects are per thread) runs
// `count` synchronous authorizations of one token once told to start. No assertions.
import { parentPort, workerData } from 'node:worker_threads'
import { Verifier } from '../index.mjs'

const { rootKey, token, request, limits, fresh, count } = workerData
const shared = new Verifier({ rootKeys: [rootKey], limits })
const call = fresh
  ? () => new Verifier({ rootKeys: [rootKey], limits }).authorize(token, request)
  : () => shared.authorize(token, request)
for (let i = 0; i < Math.min(200, count); i++) call()
parentPort.on('message', () => {
  for (let i = 0; i < count; i++) call()
  parentPort.postMessage('done')
})
parentPort.postMessage('ready')
