// jose 6 as a resource server uses it: the JWKS from the issuer's discovery document
// (createRemoteJWKSet), and jwtVerify of an access token with the issuer, audience, RFC 9068
// `typ` and the one algorithm discovery advertises for access tokens. A token with its
// payload changed must be refused.
//
//   ACCESS_TOKEN=… node jose.mjs
import * as jose from 'jose'
import { env, result, run } from './harness.mjs'

run(async () => {
  const issuer = env('ISSUER')
  const response = await fetch(`${issuer}/.well-known/openid-configuration`)
  if (!response.ok) throw new Error(`discovery answered ${response.status}`)
  const metadata = await response.json()
  const jwks = jose.createRemoteJWKSet(new URL(metadata.jwks_uri))
  const options = {
    issuer: metadata.issuer,
    audience: env('AUDIENCE'),
    typ: 'at+jwt',
    algorithms: metadata.access_token_signing_alg_values_supported
  }
  const token = env('ACCESS_TOKEN')
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, options)
  const [header, body, signature] = token.split('.')
  const claims = JSON.parse(Buffer.from(body, 'base64url'))
  claims.scope = `${claims.scope ?? ''} admin`.trim()
  const forged = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.')
  let forgedRefused = null
  try {
    await jose.jwtVerify(forged, jwks, options)
  } catch (error) {
    forgedRefused = error.code
  }
  result({ payload, protected_header: protectedHeader, forged_refused: forgedRefused })
})
