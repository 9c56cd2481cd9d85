// ESM entry of @marque/node (the same objects as the CommonJS entry).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const marque = require('./index.js')

export const {
  AuditFile,
  AuditLog,
  Decision,
  Envelope,
  KeyPair,
  McpConfig,
  McpOutcome,
  PendingAuthorization,
  PublicKey,
  RevocationFeed,
  RevocationFeedState,
  RevocationList,
  Token,
  Verifier,
  MarqueError,
  ERROR_CODES,
  MCP_DENIED_ERROR_CODE,
  approve,
  bearerToken,
  challengeValue,
  errorCodes,
  httpRefusal,
  mcpDefaultAllow,
  protectedResourceMetadata,
  redisSpendScript,
  requestDigest,
  resourceMetadataUrl,
  wwwAuthenticate,
  jwtIssue,
  jwtIssueAsync,
  jwtVerify,
  mint,
  mintAsync,
  parseJwks,
  signProof,
  signProofAsync,
  toJwks,
  verifyAuditFiles,
  __napiBindingTarget,
} = marque
export default marque
