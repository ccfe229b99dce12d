// What every script shares with the Rust side of the test (crates/server/tests/interop/script.rs):
// it reads its settings from the environment, prints `AUTHORIZE <url>` when a user must open
// the authorization URL and reads the callback URL the user's browser was sent to from stdin,
// and ends with one `RESULT <json>` line of what it observed. Anything else it prints is log.
import { createInterface } from 'node:readline'

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()

/** A required environment variable. */
export function env (name) {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is not set`)
  return value
}

/** Hands `url` to the user (the Rust test logs in and consents), returns the callback URL. */
export async function userAuthorizes (url) {
  console.log(`AUTHORIZE ${url}`)
  const { value, done } = await lines.next()
  if (done) throw new Error('no callback URL on stdin')
  return new URL(value.trim())
}

/** What the script observed, for the Rust side to check. */
export function result (observed) {
  console.log(`RESULT ${JSON.stringify(observed)}`)
  lines.return?.()
  process.stdin.destroy()
}

/** Runs `main`, exiting non-zero with the error (and its cause, code and body) on failure. */
export function run (main) {
  main().catch((error) => {
    console.error(error)
    if (error.cause) console.error('cause:', error.cause)
    process.exit(1)
  })
}

/** The JSON claims of a JWT, unverified, for reporting only. */
export function peek (jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())
}

/** The error a library threw, as `{ name, code, error }` for the Rust side. */
export function failure (error) {
  return { name: error?.name, code: error?.code, error: error?.error ?? error?.cause?.error }
}

/**
 * RP-initiated logout, when the test turns it on (`LOGOUT_REDIRECT_URI` set): builds the end
 * session URL with `build` (the library's own builder), hands it to the user as `LOGOUT <url>`,
 * and reads back where the browser was sent. Returns `null` when the test leaves it off.
 */
export async function logout (metadata, idToken, build) {
  const postLogoutRedirectUri = process.env.LOGOUT_REDIRECT_URI
  if (!postLogoutRedirectUri) return null
  if (!metadata.end_session_endpoint) throw new Error('discovery has no end_session_endpoint')
  const state = `logout-${Math.random().toString(36).slice(2)}`
  const url = build({
    id_token_hint: idToken,
    post_logout_redirect_uri: postLogoutRedirectUri,
    state
  })
  console.log(`LOGOUT ${url}`)
  const { value, done } = await lines.next()
  if (done) throw new Error('no post-logout URL on stdin')
  const landed = new URL(value.trim())
  return {
    landed: `${landed.origin}${landed.pathname}`,
    state_echoed: landed.searchParams.get('state') === state
  }
}
