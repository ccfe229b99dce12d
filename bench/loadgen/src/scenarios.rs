//! The scenarios. Each worker owns one connection (and, for page flows, one cookie jar), sets
//! itself up, then repeats its operation until told to stop, timing each one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use portcullis_core::pkce::s256_challenge;
use portcullis_core::random::{OsRandom, new_secret};
use serde_json::Value;
use tokio::time::MissedTickBehavior;

use crate::conn::{Conn, Reply};
use crate::{Options, Tally};

const FORM: &str = "application/x-www-form-urlencoded";
/// The smallest redeem there is, so that the sandbox's opening balance outlasts the run.
const ORDER: &[u8] = br#"{"kind":"redeem","currency":"eur","amount":1,"counterpart_iban":"DE89370400440532013000","memo":"bench"}"#;

fn form(pairs: &[(&str, &str)]) -> Bytes {
    Bytes::from(
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish(),
    )
}

fn basic(o: &Options) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", o.client_id, o.client_secret))
    )
}

fn json(reply: &Reply) -> anyhow::Result<Value> {
    serde_json::from_slice(&reply.body).context("not JSON")
}

/// Runs the scenario for one worker.
pub async fn run(
    worker: usize,
    o: &Options,
    measuring: &AtomicBool,
    stop: &AtomicBool,
) -> anyhow::Result<Tally> {
    let mut conn = Conn::open(&o.target).await?;
    let mut state = setup(worker, o, &mut conn)
        .await
        .with_context(|| format!("set-up of {}", o.scenario))?;
    let mut tally = Tally::default();
    // Each connection sends its share of the rate, evenly spaced.
    #[allow(clippy::cast_precision_loss)]
    let mut pace = (o.rate > 0).then(|| {
        let every = Duration::from_secs_f64(o.connections as f64 / o.rate as f64);
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        interval
    });
    while !stop.load(Ordering::Relaxed) {
        if let Some(pace) = pace.as_mut() {
            pace.tick().await;
        }
        let started = Instant::now();
        let result = step(o, &mut conn, &mut state).await;
        let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        if !measuring.load(Ordering::Relaxed) {
            continue;
        }
        match result {
            Ok(()) => {
                tally.done += 1;
                tally.latencies.push(micros);
            }
            Err(error) => {
                tally.errors += 1;
                tally
                    .first_error
                    .get_or_insert_with(|| format!("{error:#}"));
                // A broken connection is replaced; a refused request is simply counted.
                if let Ok(fresh) = Conn::open(&o.target).await {
                    conn = fresh;
                }
            }
        }
    }
    Ok(tally)
}

/// Per-worker state.
enum State {
    None,
    /// A DPoP key, the client's assertion key when it uses private_key_jwt, and the server's
    /// last nonce.
    Dpop(Box<DpopSigner>, Option<Box<DpopSigner>>, Option<String>),
    Token(String),
    Refresh(String),
    /// A token with `orders:write`, and what makes each order's idempotency key unique.
    Order {
        bearer: String,
        prefix: String,
        placed: u64,
    },
}

async fn setup(worker: usize, o: &Options, conn: &mut Conn) -> anyhow::Result<State> {
    Ok(match o.scenario.as_str() {
        "client-credentials"
        | "oidc-client-credentials"
        | "code-flow"
        | "oidc-code-flow"
        | "anonymous-authorize" => State::None,
        "order" => {
            let tokens = code_flow(o, conn, "none").await?;
            let token = tokens["access_token"]
                .as_str()
                .ok_or_else(|| anyhow!("no access token"))?;
            // Keys are scoped to the client and profile: unique per process and worker.
            let run = new_secret(&OsRandom)?.expose()[..12].to_owned();
            State::Order {
                bearer: format!("Bearer {token}"),
                prefix: format!("bench-{run}-{worker}"),
                placed: 0,
            }
        }
        "introspect" => State::Token(client_credentials_token(o, conn).await?),
        "dpop-client-credentials" => State::Dpop(Box::new(DpopSigner::new()?), None, None),
        "fapi-client-credentials" => {
            let pkcs8 = std::fs::read(&o.client_key).context("--client-key")?;
            State::Dpop(
                Box::new(DpopSigner::new()?),
                Some(Box::new(DpopSigner::from_pkcs8(&pkcs8)?)),
                None,
            )
        }
        "resource" => {
            let tokens = code_flow(o, conn, "none").await?;
            State::Token(
                tokens["access_token"]
                    .as_str()
                    .ok_or_else(|| anyhow!("no access token"))?
                    .to_owned(),
            )
        }
        "refresh" | "oidc-refresh" => {
            let tokens = code_flow(o, conn, "consent").await?;
            State::Refresh(
                tokens["refresh_token"]
                    .as_str()
                    .ok_or_else(|| anyhow!("no refresh token: {tokens}"))?
                    .to_owned(),
            )
        }
        other => bail!("unknown scenario {other}"),
    })
}

async fn step(o: &Options, conn: &mut Conn, state: &mut State) -> anyhow::Result<()> {
    match (o.scenario.as_str(), state) {
        ("client-credentials" | "oidc-client-credentials", _) => {
            client_credentials_token(o, conn).await?;
        }
        (
            "dpop-client-credentials" | "fapi-client-credentials",
            State::Dpop(signer, client_key, nonce),
        ) => {
            dpop_client_credentials(o, conn, signer, client_key.as_deref(), nonce).await?;
        }
        ("introspect", State::Token(token)) => {
            let auth = basic(o);
            let reply = conn
                .send(
                    Method::POST,
                    "/oauth/introspect",
                    &[("authorization", &auth)],
                    Some((FORM, form(&[("token", token)]))),
                )
                .await?;
            if reply.status != StatusCode::OK || json(&reply)?["active"] != true {
                bail!(
                    "introspection: {} {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                );
            }
        }
        ("resource", State::Token(token)) => {
            let bearer = format!("Bearer {token}");
            let reply = conn
                .send(
                    Method::GET,
                    "/api/v1/wallet/me",
                    &[("authorization", &bearer)],
                    None,
                )
                .await?;
            if reply.status != StatusCode::OK {
                bail!(
                    "resource: {} {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                );
            }
        }
        ("refresh" | "oidc-refresh", State::Refresh(token)) => {
            let auth = basic(o);
            let reply = conn
                .send(
                    Method::POST,
                    &o.token_path,
                    &[("authorization", &auth)],
                    Some((
                        FORM,
                        form(&[("grant_type", "refresh_token"), ("refresh_token", token)]),
                    )),
                )
                .await?;
            let body = json(&reply)?;
            let next = body["refresh_token"]
                .as_str()
                .ok_or_else(|| anyhow!("refresh: {} {body}", reply.status))?;
            *token = next.to_owned();
        }
        (
            "order",
            State::Order {
                bearer,
                prefix,
                placed,
            },
        ) => {
            *placed += 1;
            let key = format!("{prefix}-{placed}");
            let reply = conn
                .send(
                    Method::POST,
                    "/api/v1/orders",
                    &[
                        ("authorization", bearer.as_str()),
                        ("idempotency-key", key.as_str()),
                    ],
                    Some(("application/json", Bytes::from_static(ORDER))),
                )
                .await?;
            if reply.status != StatusCode::CREATED {
                bail!(
                    "order: {} {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                );
            }
        }
        ("anonymous-authorize", _) => {
            // What a flood of link-clicks or a crawler sends: a fresh, cookieless GET of the
            // authorization endpoint, answered with the login page or a redirect to it.
            conn.clear_cookies();
            let challenge = s256_challenge(new_secret(&OsRandom)?.expose());
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("response_type", "code"),
                    ("client_id", o.client_id.as_str()),
                    ("redirect_uri", o.redirect_uri.as_str()),
                    ("scope", o.scope.as_str()),
                    ("state", "flood"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                ])
                .finish();
            let reply = conn
                .send(Method::GET, &format!("/oauth/authorize?{query}"), &[], None)
                .await?;
            // A refusal by the page limits (429) is the server defending itself: counted apart.
            if reply.status == StatusCode::TOO_MANY_REQUESTS {
                bail!("429 Too Many Requests");
            }
            if !(reply.status == StatusCode::OK || reply.status.is_redirection()) {
                bail!("authorize: {}", reply.status);
            }
        }
        ("code-flow" | "oidc-code-flow", _) => {
            conn.clear_cookies();
            code_flow(o, conn, "consent").await?;
        }
        (other, _) => bail!("scenario {other} has no step"),
    }
    Ok(())
}

async fn client_credentials_token(o: &Options, conn: &mut Conn) -> anyhow::Result<String> {
    let auth = basic(o);
    let mut pairs = vec![("grant_type", "client_credentials")];
    if !o.scope.is_empty() {
        pairs.push(("scope", o.scope.as_str()));
    }
    let reply = conn
        .send(
            Method::POST,
            &o.token_path,
            &[("authorization", &auth)],
            Some((FORM, form(&pairs))),
        )
        .await?;
    if reply.status != StatusCode::OK {
        bail!(
            "token: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    let body = json(&reply)?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no access_token"))
}

/// An ES256 DPoP key (RFC 9449) that signs one proof per token request.
struct DpopSigner {
    pair: EcdsaKeyPair,
    jwk: Value,
    rng: SystemRandom,
}

impl DpopSigner {
    fn new() -> anyhow::Result<Self> {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| anyhow!("key generation failed"))?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    fn from_pkcs8(pkcs8: &[u8]) -> anyhow::Result<Self> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
            .map_err(|_| anyhow!("not a P-256 PKCS #8 key"))?;
        let point = pair.public_key().as_ref();
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        Ok(Self { pair, jwk, rng })
    }

    fn proof(&self, htu: &str, nonce: Option<&str>) -> anyhow::Result<String> {
        let jti = new_secret(&OsRandom)?.expose()[..22].to_owned();
        let iat = std::time::SystemTime::UNIX_EPOCH.elapsed()?.as_secs();
        let mut claims = serde_json::json!({"jti": jti, "htm": "POST", "htu": htu, "iat": iat});
        if let Some(nonce) = nonce {
            claims["nonce"] = Value::from(nonce);
        }
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        self.sign(&header, &claims)
    }

    /// A private_key_jwt assertion of `client_id` for `aud`, its key registered as `bench`.
    fn assertion(&self, client_id: &str, aud: &str) -> anyhow::Result<String> {
        let jti = new_secret(&OsRandom)?.expose()[..22].to_owned();
        let iat = std::time::SystemTime::UNIX_EPOCH.elapsed()?.as_secs();
        let claims = serde_json::json!({
            "iss": client_id, "sub": client_id, "aud": aud, "jti": jti,
            "iat": iat, "exp": iat + 60,
        });
        self.sign(
            &serde_json::json!({"alg": "ES256", "kid": "bench"}),
            &claims,
        )
    }

    fn sign(&self, header: &Value, claims: &Value) -> anyhow::Result<String> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&self.rng, input.as_bytes())
            .map_err(|_| anyhow!("signing failed"))?;
        Ok(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

/// Writes a new P-256 key to `path` (PKCS #8 DER) and prints its JWK Set, for a client to
/// register with `--jwks-file`.
pub fn write_client_key(path: &str) -> anyhow::Result<()> {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| anyhow!("key generation failed"))?;
    std::fs::write(path, pkcs8.as_ref()).context("--client-key")?;
    let mut jwk = DpopSigner::from_pkcs8(pkcs8.as_ref())?.jwk;
    jwk["kid"] = Value::from("bench");
    println!("{}", serde_json::json!({ "keys": [jwk] }));
    Ok(())
}

/// A DPoP-bound client-credentials token: a proof with the server's nonce, asked for again
/// when the server names a fresh one (the first request of each connection, and each nonce
/// period). With `client_key`, the client authenticates with a private_key_jwt assertion
/// instead of its secret.
async fn dpop_client_credentials(
    o: &Options,
    conn: &mut Conn,
    signer: &DpopSigner,
    client_key: Option<&DpopSigner>,
    nonce: &mut Option<String>,
) -> anyhow::Result<()> {
    let htu = format!("{}{}", o.target.trim_end_matches('/'), o.token_path);
    for _ in 0..2 {
        let proof = signer.proof(&htu, nonce.as_deref())?;
        let (headers, body) = match client_key {
            None => (
                vec![("authorization", basic(o)), ("dpop", proof)],
                form(&[("grant_type", "client_credentials")]),
            ),
            Some(key) => {
                let assertion = key.assertion(&o.client_id, o.target.trim_end_matches('/'))?;
                (
                    vec![("dpop", proof)],
                    form(&[
                        ("grant_type", "client_credentials"),
                        (
                            "client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                        ),
                        ("client_assertion", &assertion),
                    ]),
                )
            }
        };
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = conn
            .send(Method::POST, &o.token_path, &headers, Some((FORM, body)))
            .await?;
        if reply.dpop_nonce.is_some() {
            nonce.clone_from(&reply.dpop_nonce);
        }
        if reply.status == StatusCode::OK {
            if json(&reply)?["token_type"] != "DPoP" {
                bail!("the token is not DPoP-bound");
            }
            return Ok(());
        }
        if reply.status != StatusCode::BAD_REQUEST || json(&reply)?["error"] != "use_dpop_nonce" {
            bail!(
                "token: {} {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            );
        }
    }
    bail!("the server kept asking for a nonce")
}

/// The whole authorization code flow as a browser without JavaScript does it: follow
/// redirects, fill and submit each form (login fields, consent boxes left ticked, the first
/// submit button), until the server redirects to the client; then exchange the code.
async fn code_flow(o: &Options, conn: &mut Conn, prompt: &str) -> anyhow::Result<Value> {
    let verifier = new_secret(&OsRandom)?.expose().to_owned();
    let challenge = s256_challenge(&verifier);
    let authorize = if o.scenario.starts_with("oidc") {
        "/auth"
    } else {
        "/oauth/authorize"
    };
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", o.client_id.as_str()),
        ("redirect_uri", o.redirect_uri.as_str()),
        ("scope", o.scope.as_str()),
        ("state", "bench"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if prompt != "none" {
        query.push(("prompt", prompt));
    }
    let mut next = format!(
        "{authorize}?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&query)
            .finish()
    );
    let mut method = Method::GET;
    let mut body: Option<Bytes> = None;
    for _ in 0..16 {
        let reply = conn
            .send(method.clone(), &next, &[], body.take().map(|b| (FORM, b)))
            .await?;
        if reply.status.is_redirection() {
            let location = reply
                .location
                .ok_or_else(|| anyhow!("redirect without Location"))?;
            if location.starts_with(&o.redirect_uri) {
                return exchange(o, conn, &location, &verifier).await;
            }
            next = location;
            method = Method::GET;
            continue;
        }
        if reply.status != StatusCode::OK {
            bail!(
                "{} at {next}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        let html = String::from_utf8_lossy(&reply.body).into_owned();
        let (action, fields) = fill_form(&html, o).ok_or_else(|| anyhow!("no form at {next}"))?;
        next = conn.resolve(&action).map_or(action, |u| u.to_string());
        method = Method::POST;
        body = Some(Bytes::from(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&fields)
                .finish(),
        ));
    }
    bail!("the flow did not reach the client")
}

async fn exchange(
    o: &Options,
    conn: &mut Conn,
    callback: &str,
    verifier: &str,
) -> anyhow::Result<Value> {
    let url = url::Url::parse(callback)?;
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned());
    let code = code.ok_or_else(|| anyhow!("callback without code: {callback}"))?;
    let auth = basic(o);
    let reply = conn
        .send(
            Method::POST,
            &o.token_path,
            &[("authorization", &auth)],
            Some((
                FORM,
                form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", &o.redirect_uri),
                    ("code_verifier", verifier),
                ]),
            )),
        )
        .await?;
    let body = json(&reply)?;
    if reply.status != StatusCode::OK {
        bail!("code exchange: {} {body}", reply.status);
    }
    Ok(body)
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!("{name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The first form of a page, filled as a user would: email/login and password typed, hidden
/// fields and ticked boxes kept, the first submit button pressed.
fn fill_form(html: &str, o: &Options) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    let form = &html[start..end];
    let action = attribute(&form[..form.find('>')?], "action").unwrap_or_default();
    let mut fields = Vec::new();
    let mut pressed = false;
    for (position, _) in form.match_indices('<') {
        let tag_end = form[position..]
            .find('>')
            .map_or(form.len(), |e| position + e);
        let tag = &form[position..tag_end];
        let is_input = tag.starts_with("<input");
        let is_button = tag.starts_with("<button");
        if !is_input && !is_button {
            continue;
        }
        let kind = attribute(tag, "type").unwrap_or_else(|| {
            if is_button {
                "submit".into()
            } else {
                "text".into()
            }
        });
        let Some(name) = attribute(tag, "name") else {
            continue;
        };
        let value = attribute(tag, "value").unwrap_or_default();
        match kind.as_str() {
            "submit" if !pressed => {
                pressed = true;
                fields.push((name, value));
            }
            "submit" => {}
            "checkbox" | "radio" if tag.contains("checked") => fields.push((name, value)),
            "checkbox" | "radio" => {}
            "password" => fields.push((name, o.password.clone())),
            "email" => fields.push((name, o.email.clone())),
            _ if name == "email" || name == "login" => fields.push((name, o.email.clone())),
            _ => fields.push((name, value)),
        }
    }
    Some((action, fields))
}
