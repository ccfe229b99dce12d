// openid-client 6 as its README drives a confidential or public client: discovery, the
// authorization URL with PKCE S256, state and nonce, the code exchange with the library's own
// ID token validation, userinfo, refresh, introspection, revocation, client credentials and,
// when the test asks for it, RP-initiated logout.
//
// `public-dpop` runs a public client with a DPoP key (RFC 9449): the library answers the
// server's nonce by itself, the refresh token is bound to the key, the resource API is called
// with a proof.
//
//   node openid_client.mjs code|public|public-dpop|client-credentials
import * as client from 'openid-client'
import { env, failure, logout, peek, result, run, userAuthorizes } from './harness.mjs'

const mode = process.argv[2]
const issuer = new URL(env('ISSUER'))
// The test server speaks plain HTTP on a loopback port.
// Signatures of ID tokens from the token endpoint are checked too (the library trusts TLS
// for them unless told otherwise).
const options = { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] }

async function configuration () {
  if (mode === 'public' || mode === 'public-dpop') {
    return client.discovery(issuer, env('CLIENT_ID'), undefined, client.None(), options)
  }
  return client.discovery(issuer, env('CLIENT_ID'), env('CLIENT_SECRET'), undefined, options)
}

async function codeFlow (config) {
  const codeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: env('REDIRECT_URI'),
    scope: env('SCOPE'),
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce
  })
  const callback = await userAuthorizes(url)
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true
  })
  const claims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  const introspection = mode === 'public'
    ? null
    : await client.tokenIntrospection(config, refreshed.access_token)
  await client.tokenRevocation(config, refreshed.refresh_token)
  let afterRevocation = null
  try {
    await client.refreshTokenGrant(config, refreshed.refresh_token)
  } catch (error) {
    afterRevocation = failure(error)
  }
  const loggedOut = await logout(config.serverMetadata(), tokens.id_token,
    (parameters) => client.buildEndSessionUrl(config, parameters))
  return {
    issuer: config.serverMetadata().issuer,
    scope: tokens.scope,
    id_token: claims,
    id_token_header_alg: JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url')).alg,
    userinfo,
    access_token: peek(tokens.access_token),
    refreshed: {
      rotated: refreshed.refresh_token !== tokens.refresh_token,
      new_access_token: refreshed.access_token !== tokens.access_token,
      id_token: refreshed.id_token ? refreshed.claims() : null
    },
    introspection,
    after_revocation: afterRevocation,
    logged_out: loggedOut
  }
}

async function clientCredentials (config) {
  const tokens = await client.clientCredentialsGrant(config, { scope: env('SCOPE') })
  return {
    token_type: tokens.token_type,
    expires_in: tokens.expiresIn(),
    scope: tokens.scope,
    access_token: peek(tokens.access_token),
    refresh_token: tokens.refresh_token ?? null
  }
}

async function publicDpop (config) {
  const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('EdDSA'))
  const codeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: env('REDIRECT_URI'),
    scope: env('SCOPE'),
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state
  })
  const callback = await userAuthorizes(url)
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state
  }, undefined, { DPoP })
  const api = await client.fetchProtectedResource(config, tokens.access_token,
    new URL('/api/v1/me', issuer), 'GET', undefined, undefined, { DPoP })
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP })
  // Without the key, the bound refresh token is worth nothing.
  let withoutKey = null
  try {
    await client.refreshTokenGrant(config, refreshed.refresh_token)
  } catch (error) {
    withoutKey = failure(error)
  }
  const again = await client.refreshTokenGrant(config, refreshed.refresh_token, undefined, { DPoP })
  const loggedOut = await logout(config.serverMetadata(), tokens.id_token,
    (parameters) => client.buildEndSessionUrl(config, parameters))
  return {
    id_token: tokens.claims(),
    logged_out: loggedOut,
    token_type: tokens.token_type,
    access_token: peek(tokens.access_token),
    api_status: api.status,
    api_body: await api.json(),
    refreshed_token_type: refreshed.token_type,
    refreshed_access_token: peek(refreshed.access_token),
    refresh_without_key: withoutKey,
    refreshed_again: again.token_type
  }
}

run(async () => {
  const config = await configuration()
  const modes = {
    'client-credentials': clientCredentials,
    'public-dpop': publicDpop,
    code: codeFlow,
    public: codeFlow
  }
  result(await modes[mode](config))
})
