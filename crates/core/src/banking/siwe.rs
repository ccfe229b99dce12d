//! Sign-In with Ethereum messages (EIP-4361): the text a wallet owner signs with
//! `personal_sign` to prove they hold an address, bound to one site (scheme, domain, URI), one
//! chain, one server nonce and a validity window. [`SiweMessage`] renders the canonical text
//! and parses it back strictly, line by line, as the EIP's ABNF lays it out.

use std::fmt;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::wallet::Address;
use crate::time::UnixTime;

/// The only version of the message format (EIP-4361 `version = "1"`).
pub const VERSION: &str = "1";

const PREAMBLE: &str = " wants you to sign in with your Ethereum account:";

/// A Sign-In with Ethereum message, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiweMessage {
    /// The URI scheme of the site (`None`: `https`, as the EIP assumes).
    pub scheme: Option<String>,
    /// The RFC 3986 authority (host and optional port) asking for the signature.
    pub domain: String,
    /// The account, written with its EIP-55 checksum.
    pub address: Address,
    /// What the user agrees to, for people (no line breaks).
    pub statement: Option<String>,
    /// The RFC 3986 URI the signature is for.
    pub uri: String,
    /// The EIP-155 chain id.
    pub chain_id: u64,
    /// The server's nonce (at least 8 ASCII letters or digits).
    pub nonce: String,
    /// When the message was made.
    pub issued_at: UnixTime,
    /// When it stops being valid.
    pub expiration_time: Option<UnixTime>,
    /// When it starts being valid.
    pub not_before: Option<UnixTime>,
    /// A system-specific request identifier.
    pub request_id: Option<String>,
    /// URIs the user wishes to have resolved as part of the sign-in.
    pub resources: Vec<String>,
}

/// Why a text is not a well-formed EIP-4361 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signed message is not a Sign-In with Ethereum (EIP-4361) message: {0}")]
pub struct SiweError(pub &'static str);

fn rfc3339(time: UnixTime) -> String {
    time.to_rfc3339()
}

fn parse_time(text: &str, what: &'static str) -> Result<UnixTime, SiweError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| UnixTime(t.unix_timestamp()))
        .map_err(|_| SiweError(what))
}

impl fmt::Display for SiweMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(scheme) = &self.scheme {
            write!(f, "{scheme}://")?;
        }
        writeln!(f, "{}{PREAMBLE}", self.domain)?;
        writeln!(f, "{}", self.address.checksummed())?;
        writeln!(f)?;
        if let Some(statement) = &self.statement {
            writeln!(f, "{statement}")?;
        }
        writeln!(f)?;
        writeln!(f, "URI: {}", self.uri)?;
        writeln!(f, "Version: {VERSION}")?;
        writeln!(f, "Chain ID: {}", self.chain_id)?;
        writeln!(f, "Nonce: {}", self.nonce)?;
        write!(f, "Issued At: {}", rfc3339(self.issued_at))?;
        if let Some(at) = self.expiration_time {
            write!(f, "\nExpiration Time: {}", rfc3339(at))?;
        }
        if let Some(at) = self.not_before {
            write!(f, "\nNot Before: {}", rfc3339(at))?;
        }
        if let Some(id) = &self.request_id {
            write!(f, "\nRequest ID: {id}")?;
        }
        if !self.resources.is_empty() {
            write!(f, "\nResources:")?;
            for resource in &self.resources {
                write!(f, "\n- {resource}")?;
            }
        }
        Ok(())
    }
}

/// The lines of a message, consumed in order.
struct Lines<'a>(std::iter::Peekable<std::str::Split<'a, char>>);

impl<'a> Lines<'a> {
    fn next(&mut self, what: &'static str) -> Result<&'a str, SiweError> {
        self.0.next().ok_or(SiweError(what))
    }

    /// The value of a `Tag: value` line.
    fn tagged(&mut self, tag: &str, what: &'static str) -> Result<&'a str, SiweError> {
        self.next(what)?
            .strip_prefix(tag)
            .and_then(|rest| rest.strip_prefix(": "))
            .ok_or(SiweError(what))
    }

    /// The value of an optional `Tag: value` line.
    fn optional(&mut self, tag: &str, what: &'static str) -> Result<Option<&'a str>, SiweError> {
        match self.0.peek() {
            Some(line) if line.starts_with(tag) => self.tagged(tag, what).map(Some),
            _ => Ok(None),
        }
    }
}

/// RFC 3986 `reserved / unreserved / " "`, the characters a statement may hold.
fn statement_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " -._~:/?#[]@!$&'()*+,;=".contains(c)
}

/// A conservative check of an RFC 3986 URI: a scheme, then printable ASCII without spaces.
fn uri_like(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_graphic())
}

/// An RFC 3986 authority as a domain line carries it: printable ASCII, no spaces or slashes.
fn authority_like(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"/?#\\".contains(&b))
}

fn first_line(line: &str) -> Result<(Option<String>, String), SiweError> {
    let site = line.strip_suffix(PREAMBLE).ok_or(SiweError(
        "the first line must be \"<domain> wants you to sign in with your Ethereum account:\"",
    ))?;
    let (scheme, domain) = match site.split_once("://") {
        Some((scheme, domain)) => (Some(scheme), domain),
        None => (None, site),
    };
    if let Some(scheme) = scheme
        && !uri_like(&format!("{scheme}:x"))
    {
        return Err(SiweError("the scheme is malformed"));
    }
    if !authority_like(domain) {
        return Err(SiweError("the domain is malformed"));
    }
    Ok((scheme.map(str::to_owned), domain.to_owned()))
}

fn address_line(line: &str) -> Result<Address, SiweError> {
    let address = Address::parse(line).map_err(|_| SiweError("the address is malformed"))?;
    // EIP-4361 requires the EIP-55 form: a wallet shows it, so the user can compare it.
    if address.checksummed() != line {
        return Err(SiweError(
            "the address must be written with its EIP-55 checksum",
        ));
    }
    Ok(address)
}

impl SiweMessage {
    /// Parses `text` strictly: the lines in the EIP's order, separated by a single LF, no
    /// trailing line break, every field well formed.
    ///
    /// # Errors
    /// [`SiweError`] naming the first part that is wrong.
    pub fn parse(text: &str) -> Result<Self, SiweError> {
        let mut lines = Lines(text.split('\n').peekable());
        let (scheme, domain) = first_line(lines.next("the message is empty")?)?;
        let address = address_line(lines.next("the address line is missing")?)?;
        if !lines.next("the message ends after the address")?.is_empty() {
            return Err(SiweError("a blank line must follow the address"));
        }
        let statement = match lines.next("the message ends after the address")? {
            "" => None,
            statement => {
                if !statement.chars().all(statement_char) {
                    return Err(SiweError("the statement holds characters it may not"));
                }
                if !lines
                    .next("the message ends after the statement")?
                    .is_empty()
                {
                    return Err(SiweError("a blank line must follow the statement"));
                }
                Some(statement.to_owned())
            }
        };
        let uri = lines.tagged("URI", "the URI line is missing or malformed")?;
        if !uri_like(uri) {
            return Err(SiweError("the URI is malformed"));
        }
        if lines.tagged("Version", "the version line is missing")? != VERSION {
            return Err(SiweError("the version must be 1"));
        }
        let chain_id = lines.tagged("Chain ID", "the chain ID line is missing")?;
        if chain_id.is_empty()
            || !chain_id.bytes().all(|b| b.is_ascii_digit())
            || chain_id.starts_with('0')
        {
            return Err(SiweError("the chain ID is not a number"));
        }
        let chain_id = chain_id
            .parse()
            .map_err(|_| SiweError("the chain ID is too large"))?;
        let nonce = lines.tagged("Nonce", "the nonce line is missing")?;
        if nonce.len() < 8 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SiweError("the nonce must be at least 8 letters or digits"));
        }
        let issued_at = parse_time(
            lines.tagged("Issued At", "the issued-at line is missing")?,
            "the issued-at time is not an RFC 3339 time",
        )?;
        let expiration_time = lines
            .optional("Expiration Time", "the expiration time line is malformed")?
            .map(|t| parse_time(t, "the expiration time is not an RFC 3339 time"))
            .transpose()?;
        let not_before = lines
            .optional("Not Before", "the not-before line is malformed")?
            .map(|t| parse_time(t, "the not-before time is not an RFC 3339 time"))
            .transpose()?;
        let request_id = lines
            .optional("Request ID", "the request ID line is malformed")?
            .map(str::to_owned);
        if request_id
            .as_deref()
            .is_some_and(|id| !id.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(SiweError("the request ID is malformed"));
        }
        let mut resources = Vec::new();
        if lines.0.peek() == Some(&"Resources:") {
            lines.0.next();
            for line in lines.0.by_ref() {
                let resource = line
                    .strip_prefix("- ")
                    .filter(|r| uri_like(r))
                    .ok_or(SiweError("a resource must be \"- <URI>\""))?;
                resources.push(resource.to_owned());
            }
        }
        if lines.0.next().is_some() {
            return Err(SiweError("unexpected text after the last field"));
        }
        Ok(Self {
            scheme,
            domain,
            address,
            statement,
            uri: uri.to_owned(),
            chain_id,
            nonce: nonce.to_owned(),
            issued_at,
            expiration_time,
            not_before,
            request_id,
            resources,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> SiweMessage {
        SiweMessage {
            scheme: None,
            domain: "example.com".into(),
            address: Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").unwrap(),
            statement: Some("Link this wallet to my profile.".into()),
            uri: "https://example.com/onboarding/wallet".into(),
            chain_id: 100,
            nonce: "32891756abcdEF01".into(),
            issued_at: UnixTime(1_700_000_000),
            expiration_time: Some(UnixTime(1_700_000_600)),
            not_before: None,
            request_id: None,
            resources: Vec::new(),
        }
    }

    const EXAMPLE: &str = "example.com wants you to sign in with your Ethereum account:\n\
        0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n\
        \n\
        Link this wallet to my profile.\n\
        \n\
        URI: https://example.com/onboarding/wallet\n\
        Version: 1\n\
        Chain ID: 100\n\
        Nonce: 32891756abcdEF01\n\
        Issued At: 2023-11-14T22:13:20Z\n\
        Expiration Time: 2023-11-14T22:23:20Z";

    #[test]
    fn renders_the_eip_layout_and_parses_back() {
        assert_eq!(example().to_string(), EXAMPLE);
        assert_eq!(SiweMessage::parse(EXAMPLE), Ok(example()));
    }

    #[test]
    fn every_optional_field_round_trips() {
        let full = SiweMessage {
            scheme: Some("http".into()),
            domain: "127.0.0.1:8080".into(),
            statement: None,
            not_before: Some(UnixTime(1_700_000_001)),
            request_id: Some("req-1".into()),
            resources: vec!["urn:x:1".into(), "https://a.example/b".into()],
            ..example()
        };
        let text = full.to_string();
        assert!(
            text.starts_with("http://127.0.0.1:8080 wants you"),
            "{text}"
        );
        assert!(
            text.contains("c23\n\n\nURI") || text.contains("eAed\n\n\nURI"),
            "{text}"
        );
        assert_eq!(SiweMessage::parse(&text), Ok(full));
    }

    /// The EIP's own example (with its `Resources`) parses.
    #[test]
    fn the_eips_example_parses() {
        let text = "service.org wants you to sign in with your Ethereum account:\n\
            0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n\
            \n\
            I accept the ServiceOrg Terms of Service: https://service.org/tos\n\
            \n\
            URI: https://service.org/login\n\
            Version: 1\n\
            Chain ID: 1\n\
            Nonce: 32891757\n\
            Issued At: 2021-09-30T16:25:24.000Z\n\
            Resources:\n\
            - ipfs://Qme7ss3ARVgxv6rXqVPiikMJ8u2NLgmgszg13pYrDKEoiu\n\
            - https://example.com/my-web2-claim.json";
        let message = SiweMessage::parse(text).unwrap();
        assert_eq!(message.domain, "service.org");
        assert_eq!(message.chain_id, 1);
        assert_eq!(message.resources.len(), 2);
    }

    #[test]
    fn malformed_messages_are_refused_with_the_part_named() {
        let cases: [(&str, &str); 10] = [
            ("", "first line"),
            (
                "I hereby declare that I am the address owner.",
                "first line",
            ),
            (
                &EXAMPLE.replace(
                    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                    "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
                ),
                "EIP-55",
            ),
            (&EXAMPLE.replace("Version: 1", "Version: 2"), "version"),
            (
                &EXAMPLE.replace("Chain ID: 100", "Chain ID: 0100"),
                "chain ID",
            ),
            (
                &EXAMPLE.replace("Nonce: 32891756abcdEF01", "Nonce: short"),
                "nonce",
            ),
            (
                &EXAMPLE.replace("2023-11-14T22:13:20Z", "yesterday"),
                "issued-at",
            ),
            (&format!("{EXAMPLE}\n"), "after the last field"),
            (&EXAMPLE.replace('\n', "\r\n"), "first line"),
            (
                &EXAMPLE.replace("my profile.", "my \"profile\"."),
                "statement",
            ),
        ];
        for (text, part) in cases {
            let error = SiweMessage::parse(text).unwrap_err().to_string();
            assert!(error.contains(part), "{text:?}: {error}");
        }
    }
}
