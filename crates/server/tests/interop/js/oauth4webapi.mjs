// oauth4webapi 3 step by step as its examples do: discovery, PKCE S256 with state and nonce,
// the authorization response check (state, iss), the code exchange with ID token validation
// and its signature against the JWKS, userinfo, refresh, introspection, revocation, client
// credentials, and the resource server's RFC 9068 validation of a JWT access token.
//
//   node oauth4webapi.mjs code|client-credentials
import * as oauth from 'oauth4webapi'
import { env, failure, logout, peek, result, run, userAuthorizes } from './harness.mjs'

const mode = process.argv[2]
const issuer = new URL(env('ISSUER'))
// The test server speaks plain HTTP on a loopback port.
const insecure = { [oauth.allowInsecureRequests]: true }
const client = { client_id: env('CLIENT_ID') }
const auth = oauth.ClientSecretBasic(env('CLIENT_SECRET'))

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

run(async () => {
  const as = await discover()
  result(mode === 'client-credentials' ? await clientCredentials(as) : await codeFlow(as))
})
