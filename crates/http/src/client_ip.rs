//! The client's address, for rate limits and the audit trail.
//!
//! It is the TCP peer, unless the peer is a configured trusted proxy: then the forwarding
//! header (`X-Forwarded-For`, or `Forwarded` (RFC 7239) when configured) is read from the
//! right, skipping trusted hops, and the first untrusted address is the client. Each proxy
//! appends the address it received the request from, so everything to the left of the first
//! untrusted hop was written by the client and proves nothing; a request from any other peer
//! has its forwarding headers ignored, since anyone can send them.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, header};

/// An address range in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    network: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` is in this range (IPv4-mapped IPv6 addresses count as IPv4).
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = address
            .parse::<IpAddr>()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR range"))?
            .to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text:?} has a prefix length outside 0..={bits}"))?,
        };
        Ok(Self { network, prefix })
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The header trusted proxies write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (the de facto standard).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

impl FromStr for ForwardedHeader {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err(format!("{text:?} is not x-forwarded-for or forwarded")),
        }
    }
}

impl ForwardedHeader {
    /// The header's name.
    #[must_use]
    pub fn name(self) -> HeaderName {
        match self {
            Self::XForwardedFor => HeaderName::from_static("x-forwarded-for"),
            Self::Forwarded => header::FORWARDED,
        }
    }
}

/// The proxies whose forwarding header is believed. Only one header is read: a proxy that
/// writes `X-Forwarded-For` passes a client's own `Forwarded` header through untouched, so
/// reading both would let the client choose its address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    /// The proxies' addresses.
    pub networks: Vec<IpNet>,
    /// The header they write.
    pub header: ForwardedHeader,
}

/// More hops than any real proxy chain has; a longer header is read only this far.
const MAX_HOPS: usize = 32;

impl TrustedProxies {
    /// Whether `ip` is a trusted proxy.
    #[must_use]
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The client address of a request that came from `peer` with `headers`. A hop that
    /// cannot be read (`unknown`, an obfuscated name, garbage) ends the walk at the trusted
    /// proxy that reported it: nothing beyond it can be believed.
    #[must_use]
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let mut client = peer?.to_canonical();
        if !self.trusts(client) {
            return Some(client);
        }
        for hop in self.hops(headers).into_iter().rev().take(MAX_HOPS) {
            match hop {
                Some(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        Some(client)
    }

    /// The header's hops, left to right (every line of it, in order); `None` for a hop that is
    /// not an address.
    fn hops(&self, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
        let lines = headers.get_all(self.header.name());
        let mut hops = Vec::new();
        for line in &lines {
            let Ok(line) = line.to_str() else {
                // An unreadable line hides whatever it held: nothing left of it counts.
                hops.clear();
                hops.push(None);
                continue;
            };
            hops.extend(line.split(',').map(|element| match self.header {
                ForwardedHeader::XForwardedFor => parse_node(element),
                ForwardedHeader::Forwarded => forwarded_for(element).and_then(parse_node),
            }));
        }
        hops
    }
}

/// The `for=` value of one `Forwarded` element (RFC 7239 §4), unquoted.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:443`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .and_then(|t| t.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
}

/// The client's address as the middleware resolved it (see the module documentation); the
/// TCP peer's when the request did not pass through that middleware.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().copied().unwrap_or_else(|| {
            Self(
                parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip().to_canonical()),
            )
        }))
    }
}

/// The TCP peer of a request, if the server recorded it.
#[must_use]
pub fn peer(parts: &axum::http::Extensions) -> Option<IpAddr> {
    parts.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::http::HeaderValue;

    fn proxies(nets: &[&str], header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies {
            networks: nets.iter().map(|n| n.parse().unwrap()).collect(),
            header,
        }
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn cidr_ranges_match_what_they_cover() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.200.3.4".parse().unwrap()));
        assert!(net.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));
        let one: IpNet = "192.168.1.5".parse().unwrap();
        assert!(one.contains("192.168.1.5".parse().unwrap()));
        assert!(!one.contains("192.168.1.6".parse().unwrap()));
        let v6: IpNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "example.com",
            "10.0.0.0/-1",
            "",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarding_headers_from_untrusted_peers_are_ignored() {
        let trusted = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let spoofed = headers("x-forwarded-for", &["198.51.100.1"]);
        assert_eq!(
            trusted.client_ip(ip("203.0.113.7"), &spoofed),
            ip("203.0.113.7")
        );
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("10.0.0.1"), &spoofed),
            ip("10.0.0.1"),
            "no proxies configured: the header means nothing"
        );
        assert_eq!(none.client_ip(None, &spoofed), None);
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = proxies(
            &["10.0.0.0/8", "192.168.1.5"],
            ForwardedHeader::XForwardedFor,
        );
        // The client wrote "1.1.1.1, 10.9.9.9" itself; the proxies appended the rest.
        let chain = headers(
            "x-forwarded-for",
            &["1.1.1.1, 10.9.9.9, 203.0.113.7", "192.168.1.5"],
        );
        assert_eq!(trusted.client_ip(ip("10.0.0.2"), &chain), ip("203.0.113.7"));
        let only_proxies = headers("x-forwarded-for", &["10.1.1.1, 192.168.1.5"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.2"), &only_proxies),
            ip("10.1.1.1"),
            "all hops trusted: the leftmost"
        );
        assert_eq!(
            trusted.client_ip(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2"),
            "no header: the proxy itself (a health check)"
        );
        let ports = headers("x-forwarded-for", &["[2001:db8::7]:4711, 198.51.100.4:80"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.2"), &ports),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn an_unreadable_hop_stops_at_the_proxy_that_wrote_it() {
        let trusted = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let chain = headers("x-forwarded-for", &["203.0.113.7, unknown, 10.0.0.9"]);
        assert_eq!(trusted.client_ip(ip("10.0.0.2"), &chain), ip("10.0.0.9"));
        let garbage = headers("x-forwarded-for", &["not an address"]);
        assert_eq!(trusted.client_ip(ip("10.0.0.2"), &garbage), ip("10.0.0.2"));
    }

    #[test]
    fn forwarded_is_read_only_when_configured() {
        let trusted = proxies(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        let mut map = headers(
            "forwarded",
            &["for=198.51.100.1;proto=https, For=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1"],
        );
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &map),
            ip("2001:db8:cafe::17")
        );
        map.append("x-forwarded-for", HeaderValue::from_static("192.0.2.99"));
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &map),
            ip("2001:db8:cafe::17"),
            "X-Forwarded-For is ignored when Forwarded is the configured header"
        );
        let xff = proxies(&["10.0.0.0/8"], ForwardedHeader::XForwardedFor);
        let only_forwarded = headers("forwarded", &["for=192.0.2.60"]);
        assert_eq!(
            xff.client_ip(ip("10.0.0.1"), &only_forwarded),
            ip("10.0.0.1")
        );
        let hidden = headers("forwarded", &["for=192.0.2.60, for=_hidden, for=10.0.0.3"]);
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &hidden), ip("10.0.0.3"));
    }
}
