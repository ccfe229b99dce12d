//! Proving that a user owns a wallet, with a challenge per attempt in the Sign-In with Ethereum
//! format (EIP-4361). A fixed message would not do: one signature of it, seen anywhere, would
//! let anyone link the address to their own profile and lock the owner out. So the server
//! issues a message naming this site (domain and URI), the address, the chain and a fresh nonce,
//! valid for [`CHALLENGE_SECONDS`]; the nonce is stored (as a hash) with the user and the
//! profile it was issued for, and a proof consumes it once, in the same transaction that links
//! the wallet. Each field of the signed message is compared with what was issued, so a refusal
//! says what is wrong.

use portcullis_proto::ProfileId;

use super::profile::Profile;
use super::siwe::{SiweError, SiweMessage};
use super::wallet::{self, Address, Chain, FIXED_OWNERSHIP_MESSAGE, WalletError};
use crate::hash::SecretHash;
use crate::random::{RandomError, SecretGenerator, new_uuid};
use crate::store::{BankStore, StoreError, WalletChallengeRecord, WalletRecord};
use crate::time::{Clock, UnixTime};

/// How long a challenge can be signed and used: enough to copy it into a wallet by hand.
pub const CHALLENGE_SECONDS: i64 = 600;
/// How many challenges a profile may have open (issued, not used) at once; issuing one more
/// retires the oldest, whose message then no longer verifies.
pub const OPEN_CHALLENGES: usize = 5;

/// What the messages say the signature does.
pub const STATEMENT: &str = "Link this wallet to my profile on this site.";

/// The site that asks for signatures: derived from the issuer, so a message signed for any
/// other site (or a copy of this one served elsewhere) names another domain or URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipSite {
    /// The scheme, when it is not `https` (the EIP's default).
    pub scheme: Option<String>,
    /// The issuer's authority (host and port).
    pub domain: String,
    /// The wallet page's URI.
    pub uri: String,
}

impl OwnershipSite {
    /// The site of `issuer` (an absolute `http(s)` URL), whose wallet page is
    /// `<issuer>/onboarding/wallet`. `None` when the issuer has no host.
    #[must_use]
    pub fn for_issuer(issuer: &str) -> Option<Self> {
        let url = url::Url::parse(issuer).ok()?;
        let host = url.host_str()?;
        let domain = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let scheme = (url.scheme() != "https").then(|| url.scheme().to_owned());
        let uri = format!("{}/onboarding/wallet", issuer.trim_end_matches('/'));
        Some(Self {
            scheme,
            domain,
            uri,
        })
    }
}

/// Why a proof of ownership was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Not a well-formed EIP-4361 message.
    #[error(transparent)]
    Malformed(#[from] SiweError),
    /// The message names another site: it was signed for someone else.
    #[error(
        "this message was signed for another site ({0}), not this one; ask for a new message here"
    )]
    ForeignSite(String),
    /// Its expiration time has passed.
    #[error("this message has expired; ask for a new message")]
    Expired,
    /// Its nonce was never issued here (or was issued long ago and forgotten).
    #[error("this message's nonce was not issued by this site; ask for a new message")]
    UnknownNonce,
    /// Its nonce was issued to another user or for another profile.
    #[error("this message was issued for another account or profile; ask for a new message")]
    ForeignNonce,
    /// A proof used it already.
    #[error("this message was already used; ask for a new message")]
    AlreadyUsed,
    /// A field differs from the one issued.
    #[error("the message's {0} is not the one issued; sign the message exactly as shown")]
    Altered(&'static str),
    /// A signature of the fixed Monerium text, which proves nothing here.
    #[error(
        "this is a signature of the fixed text \"{FIXED_OWNERSHIP_MESSAGE}\", which is not accepted here; sign the message shown"
    )]
    FixedMessage,
}

/// Hex of 16 random bytes: 128 bits, and only letters and digits as EIP-4361 nonces must be.
fn new_nonce(random: &dyn SecretGenerator) -> Result<String, RandomError> {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The message of a challenge, as issued.
fn message_of(
    site: &OwnershipSite,
    challenge: &WalletChallengeRecord,
    address: Address,
    nonce: &str,
) -> SiweMessage {
    SiweMessage {
        scheme: site.scheme.clone(),
        domain: site.domain.clone(),
        address,
        statement: Some(STATEMENT.to_owned()),
        uri: site.uri.clone(),
        chain_id: challenge.chain.id(),
        nonce: nonce.to_owned(),
        issued_at: challenge.issued_at,
        expiration_time: Some(challenge.expires_at),
        not_before: None,
        request_id: None,
        resources: Vec::new(),
    }
}

/// Issues a challenge for `profile` (of the user it belongs to) to prove `address` on
/// `chain`, and returns the message to sign.
///
/// # Errors
/// [`super::accounts::BankError::Wallet`] for a malformed address, storage and randomness
/// failures.
pub async fn issue_challenge(
    store: &dyn BankStore,
    clock: &dyn Clock,
    random: &dyn SecretGenerator,
    site: &OwnershipSite,
    profile: &Profile,
    chain: Chain,
    address: &str,
) -> Result<SiweMessage, super::accounts::BankError> {
    let address = Address::parse(address.trim())?;
    let nonce = new_nonce(random)?;
    let now = clock.now();
    let challenge = WalletChallengeRecord {
        nonce_hash: SecretHash::of(&nonce),
        user_id: profile.user_id.clone(),
        profile_id: profile.id.clone(),
        chain,
        address: address.checksummed(),
        issued_at: now,
        expires_at: now.plus(CHALLENGE_SECONDS),
        consumed_at: None,
    };
    store.insert_wallet_challenge(&challenge).await?;
    Ok(message_of(site, &challenge, address, &nonce))
}

/// The first field of `signed` that differs from `issued`, named for people.
fn altered(signed: &SiweMessage, issued: &SiweMessage) -> Option<&'static str> {
    [
        (signed.address != issued.address, "address"),
        (signed.chain_id != issued.chain_id, "chain ID"),
        (signed.statement != issued.statement, "statement"),
        (signed.issued_at != issued.issued_at, "issue time"),
        (
            signed.expiration_time != issued.expiration_time,
            "expiration time",
        ),
        (signed.not_before != issued.not_before, "not-before time"),
        (signed.request_id != issued.request_id, "request ID"),
        (signed.resources != issued.resources, "resource list"),
    ]
    .into_iter()
    .find_map(|(differs, field)| differs.then_some(field))
}

/// A checked proof: the challenge it answers and the wallet it proves.
struct Checked {
    nonce_hash: SecretHash,
    chain: Chain,
    address: Address,
}

/// Checks `text` (the message, line breaks as LF or CRLF) and `signature` against the
/// challenge they answer, without consuming it.
async fn check(
    store: &dyn BankStore,
    now: UnixTime,
    site: &OwnershipSite,
    profile: &Profile,
    text: &str,
    signature: &str,
) -> Result<Checked, super::accounts::BankError> {
    // Browsers send a form field's line breaks as CRLF; EIP-4361 messages use LF.
    let text = text.replace("\r\n", "\n");
    let text = text.trim_end_matches('\n');
    let signed = SiweMessage::parse(text).map_err(ProofError::from)?;
    if signed.scheme != site.scheme || signed.domain != site.domain || signed.uri != site.uri {
        let shown = signed
            .scheme
            .as_ref()
            .map_or(String::new(), |s| format!("{s}://"));
        return Err(ProofError::ForeignSite(format!("{shown}{}", signed.domain)).into());
    }
    if signed.expiration_time.is_some_and(|at| at <= now) {
        return Err(ProofError::Expired.into());
    }
    let nonce_hash = SecretHash::of(&signed.nonce);
    let challenge = store
        .wallet_challenge(&nonce_hash)
        .await?
        .ok_or(ProofError::UnknownNonce)?;
    if challenge.user_id != profile.user_id || challenge.profile_id != profile.id {
        return Err(ProofError::ForeignNonce.into());
    }
    if challenge.consumed_at.is_some() {
        return Err(ProofError::AlreadyUsed.into());
    }
    if challenge.expires_at <= now {
        return Err(ProofError::Expired.into());
    }
    let address = Address::parse(&challenge.address)
        .map_err(|e| StoreError::Corrupt(format!("wallet_challenges.address: {e}")))?;
    let issued = message_of(site, &challenge, address, &signed.nonce);
    if let Some(field) = altered(&signed, &issued) {
        return Err(ProofError::Altered(field).into());
    }
    check_signer(text, signature.trim(), &signed.address)?;
    Ok(Checked {
        nonce_hash,
        chain: challenge.chain,
        address: signed.address,
    })
}

fn check_signer(
    text: &str,
    signature: &str,
    address: &Address,
) -> Result<(), super::accounts::BankError> {
    if wallet::recover_signer(text.as_bytes(), signature)? == *address {
        Ok(())
    } else if wallet::recover_signer(FIXED_OWNERSHIP_MESSAGE.as_bytes(), signature)? == *address {
        // The owner's own signature of the fixed text, perhaps made for Monerium: say why it
        // does not count rather than calling it the wrong signer.
        Err(ProofError::FixedMessage.into())
    } else {
        Err(WalletError::WrongSigner.into())
    }
}

/// Links the wallet that `text` (a message issued by [`issue_challenge`] for `profile`) and
/// `signature` (its `personal_sign` by the address's key) prove, consuming the challenge.
///
/// # Errors
/// [`super::accounts::BankError::Proof`] for a message that is malformed, for another site,
/// expired, unknown, issued to someone else, used or altered;
/// [`super::accounts::BankError::Wallet`] for a malformed or wrong signature;
/// [`super::accounts::BankError::AddressTaken`]; storage failures.
pub async fn link_wallet(
    store: &dyn BankStore,
    clock: &dyn Clock,
    random: &dyn SecretGenerator,
    site: &OwnershipSite,
    profile: &Profile,
    text: &str,
    signature: &str,
) -> Result<WalletRecord, super::accounts::BankError> {
    let now = clock.now();
    let checked = check(store, now, site, profile, text, signature).await?;
    let record = WalletRecord {
        id: new_uuid(random, clock.now_millis())?,
        profile_id: ProfileId::clone(&profile.id),
        chain: checked.chain,
        address: checked.address.checksummed(),
        created_at: now,
    };
    // The conditional update decides between racing proofs, on one node or several.
    match store
        .link_wallet_with_challenge(&checked.nonce_hash, now, &record)
        .await
    {
        Ok(true) => Ok(record),
        Ok(false) => Err(ProofError::AlreadyUsed.into()),
        Err(StoreError::Conflict(_)) => Err(super::accounts::BankError::AddressTaken),
        Err(other) => Err(other.into()),
    }
}
