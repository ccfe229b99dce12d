// oauth4webapi 3 step by step as its examples do: discovery, PKCE S256 with state and nonce,
// the authorization response check (state, iss), the code exchange with ID token validation
// and its signature against the JWKS, userinfo, refresh, introspection, revocation, client
// credentials, and the resource server's RFC 9068 validation of a JWT access token.
//
// With `dpop`, the code flow again with a DPoP key (RFC 9449): the code bound by `dpop_jkt`,
// the server's nonce answered by the library's retry, a bound token at userinfo and the
// resource API, a refresh with the key, and the bound token refused when sent as Bearer.
//
// `par-dpop` pushes the authorization request first (RFC 9126), with the proof.
//
//   node oauth4webapi.mjs code|client-credentials|dpop|par-dpop
import * as oauth from 'oauth4webapi'
import { env, failure, logout, peek, result, run, userAuthorizes } from './harness.mjs'

const mode = process.argv[2]
const issuer = new URL(env('ISSUER'))
// The test server speaks plain HTTP on a loopback port.
const insecure = { [oauth.allowInsecureRequests]: true }
const client = { client_id: env('CLIENT_ID') }
// private_key_jwt (RFC 7523) when the test hands over a key (PKCS #8, base64), otherwise the
// client secret with HTTP Basic.
async function clientAuth () {
  const pkcs8 = process.env.CLIENT_PRIVATE_KEY
  if (!pkcs8) return oauth.ClientSecretBasic(env('CLIENT_SECRET'))
  const key = await crypto.subtle.importKey('pkcs8', Buffer.from(pkcs8, 'base64'),
    { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  return oauth.PrivateKeyJwt({ key, kid: env('CLIENT_KEY_ID') })
}
const auth = await clientAuth()

async function discover () {
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure })
  return oauth.processDiscoveryResponse(issuer, response)
}

/** RFC 9068 validation as a resource server does it, on a request that carries `token`. */
async function resourceServerSees (as, token) {
  const request = new Request('http://resource.example/api', {
    headers: { authorization: `Bearer ${token}` }
  })
  return oauth.validateJwtAccessToken(as, request, env('AUDIENCE'), insecure)
}

async function codeFlow (as) {
  const redirectUri = env('REDIRECT_URI')
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const nonce = oauth.generateRandomNonce()
  const url = new URL(as.authorization_endpoint)
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: env('SCOPE'),
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce
  })
  const callback = await userAuthorizes(url)
  const params = oauth.validateAuthResponse(as, client, callback, state)
  const response = await oauth.authorizationCodeGrantRequest(
    as, client, auth, params, redirectUri, codeVerifier, insecure)
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: nonce,
    requireIdToken: true
  })
  // The ID token's signature against the JWKS: the library trusts TLS for it otherwise.
  await oauth.validateApplicationLevelSignature(as, response, insecure)
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  const userinfo = await oauth.processUserInfoResponse(as, client, claims.sub,
    await oauth.userInfoRequest(as, client, tokens.access_token, insecure))
  const refreshed = await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token, insecure))
  const introspection = await oauth.processIntrospectionResponse(as, client,
    await oauth.introspectionRequest(as, client, auth, refreshed.access_token, insecure))
  const accessToken = await resourceServerSees(as, refreshed.access_token)
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, client, auth, refreshed.access_token, insecure))
  const revoked = await oauth.processIntrospectionResponse(as, client,
    await oauth.introspectionRequest(as, client, auth, refreshed.access_token, insecure))
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, client, auth, refreshed.refresh_token, insecure))
  let afterRevocation = null
  try {
    await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, auth, refreshed.refresh_token, insecure))
  } catch (error) {
    afterRevocation = failure(error)
  }
  const loggedOut = await logout(as, tokens.id_token, (parameters) => {
    const end = new URL(as.end_session_endpoint)
    end.search = new URLSearchParams(parameters)
    return end
  })
  return {
    issuer: as.issuer,
    scope: tokens.scope,
    id_token: claims,
    userinfo,
    refreshed: {
      rotated: refreshed.refresh_token !== tokens.refresh_token,
      new_access_token: refreshed.access_token !== tokens.access_token
    },
    introspection,
    access_token: accessToken,
    revoked_access_token_active: revoked.active,
    after_revocation: afterRevocation,
    logged_out: loggedOut
  }
}

async function clientCredentials (as) {
  const tokens = await oauth.processClientCredentialsResponse(as, client,
    await oauth.clientCredentialsGrantRequest(as, client, auth,
      new URLSearchParams({ scope: env('SCOPE') }), insecure))
  return {
    token_type: tokens.token_type,
    scope: tokens.scope,
    access_token: await resourceServerSees(as, tokens.access_token),
    unverified: peek(tokens.access_token)
  }
}

/** `request()`, once more if the server asked for a fresh DPoP nonce (RFC 9449 §8). */
async function withNonceRetry (request) {
  try {
    return { retried: false, value: await request() }
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error
    return { retried: true, value: await request() }
  }
}

async function dpopFlow (as) {
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  const redirectUri = env('REDIRECT_URI')
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const parameters = {
    client_id: client.client_id,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: env('SCOPE'),
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state
  }
  const url = new URL(as.authorization_endpoint)
  let pushedWithNonceRetry = null
  if (mode === 'par-dpop') {
    // RFC 9126 with a DPoP proof, which binds the code as dpop_jkt would (RFC 9449 §10.1).
    const pushed = await withNonceRetry(async () => oauth.processPushedAuthorizationResponse(
      as, client,
      await oauth.pushedAuthorizationRequest(as, client, auth, parameters, { DPoP, ...insecure })))
    pushedWithNonceRetry = pushed.retried
    url.search = new URLSearchParams({
      client_id: client.client_id,
      request_uri: pushed.value.request_uri
    })
  } else {
    url.search = new URLSearchParams({ ...parameters, dpop_jkt: await DPoP.calculateThumbprint() })
  }
  const callback = await userAuthorizes(url)
  const params = oauth.validateAuthResponse(as, client, callback, state)
  const exchanged = await withNonceRetry(async () => oauth.processAuthorizationCodeResponse(
    as, client,
    await oauth.authorizationCodeGrantRequest(
      as, client, auth, params, redirectUri, codeVerifier, { DPoP, ...insecure })))
  const tokens = exchanged.value
  const userinfo = await oauth.processUserInfoResponse(as, client, oauth.skipSubjectCheck,
    await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure }))
  const api = await oauth.protectedResourceRequest(tokens.access_token, 'GET',
    new URL('/api/v1/me', issuer), new Headers(), null, { DPoP, ...insecure })
  let asBearer = null
  try {
    await oauth.processUserInfoResponse(as, client, oauth.skipSubjectCheck,
      await oauth.userInfoRequest(as, client, tokens.access_token, insecure))
  } catch (error) {
    // A WWWAuthenticateChallengeError: its cause is the parsed challenges.
    const challenges = Array.isArray(error.cause) ? error.cause : []
    asBearer = {
      name: error.name,
      schemes: challenges.map((c) => c.scheme),
      errors: challenges.map((c) => c.parameters?.error)
    }
  }
  const refreshed = await withNonceRetry(async () => oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token,
      { DPoP, ...insecure })))
  const introspection = await oauth.processIntrospectionResponse(as, client,
    await oauth.introspectionRequest(as, client, auth, refreshed.value.access_token, insecure))
  const loggedOut = await logout(as, tokens.id_token, (parameters) => {
    const end = new URL(as.end_session_endpoint)
    end.search = new URLSearchParams(parameters)
    return end
  })
  return {
    id_token: oauth.getValidatedIdTokenClaims(tokens),
    logged_out: loggedOut,
    token_type: tokens.token_type,
    pushed_with_nonce_retry: pushedWithNonceRetry,
    first_exchange_retried_for_nonce: exchanged.retried,
    jkt: await DPoP.calculateThumbprint(),
    access_token: peek(tokens.access_token),
    userinfo,
    api_status: api.status,
    api_body: await api.json(),
    as_bearer: asBearer,
    refreshed_token_type: refreshed.value.token_type,
    refreshed_access_token: peek(refreshed.value.access_token),
    introspection
  }
}

run(async () => {
  const as = await discover()
  const modes = {
    'client-credentials': clientCredentials,
    dpop: dpopFlow,
    'par-dpop': dpopFlow,
    code: codeFlow
  }
  result(await modes[mode](as))
})
