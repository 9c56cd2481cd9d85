// ESM entry of @marque/node (the same objects as the CommonJS entry).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const marque = require('./index.js')

export const {
  AuditLog,
  Decision,
  Envelope,
  KeyPair,
  PublicKey,
  Token,
  Verifier,
  MarqueError,
  ERROR_CODES,
  errorCodes,
  jwtIssue,
  jwtVerify,
  mint,
  signProof,
  __napiBindingTarget,
} = marque
export default marque
