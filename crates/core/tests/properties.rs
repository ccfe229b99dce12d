//! Properties of the parsers that take outside input: redirect-URI registration and matching,
//! and scope parsing (RFC 6749 §3.1.2, §3.3; RFC 8252 §7.3).

#![allow(clippy::unwrap_used)]

use portcullis_core::client::RedirectUri;
use portcullis_proto::ScopeSet;
use proptest::prelude::*;

fn path_segment() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._~-]{1,12}"
}

fn https_uri() -> impl Strategy<Value = String> {
    (
        "[a-z]{1,10}",
        "[a-z]{2,5}",
        prop::collection::vec(path_segment(), 0..4),
        prop::option::of("[a-z]{1,5}=[a-z0-9]{0,5}"),
    )
        .prop_map(|(host, tld, path, query)| {
            let mut uri = format!("https://{host}.{tld}/{}", path.join("/"));
            if let Some(query) = query {
                uri.push('?');
                uri.push_str(&query);
            }
            uri
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary text never panics the parser or the matcher.
    #[test]
    fn redirect_uri_parsing_never_panics(registered in any::<String>(), requested in any::<String>()) {
        if let Ok(uri) = RedirectUri::parse(&registered) {
            let _ = uri.matches(&requested);
        }
    }

    /// A registered https URI matches itself and nothing that differs from it.
    #[test]
    fn https_uris_match_exactly(uri in https_uri(), other in https_uri()) {
        let registered = RedirectUri::parse(&uri).unwrap();
        prop_assert!(registered.matches(&uri));
        prop_assert_eq!(registered.matches(&other), other == uri);
        let (slash, fragment) = (format!("{uri}/"), format!("{uri}#x"));
        let (http, upper) = (uri.replacen("https://", "http://", 1), uri.to_uppercase());
        prop_assert!(!registered.matches(&slash));
        prop_assert!(!registered.matches(&fragment));
        prop_assert!(!registered.matches(&http));
        prop_assert!(!registered.matches(&upper) || uri == upper);
    }

    /// A loopback IP URI matches on any port, and only with the same path and query.
    #[test]
    fn loopback_ports_vary_but_nothing_else(path in prop::collection::vec(path_segment(), 1..3), port in 1u16..=65535, other in path_segment()) {
        let registered_text = format!("http://127.0.0.1/{}", path.join("/"));
        let registered = RedirectUri::parse(&registered_text).unwrap();
        let joined = path.join("/");
        let same = format!("http://127.0.0.1:{port}/{joined}");
        let different = format!("http://127.0.0.1:{port}/{other}");
        let other_host = format!("http://127.0.0.2:{port}/{joined}");
        prop_assert!(registered.matches(&same));
        prop_assert_eq!(registered.matches(&different), other == joined);
        prop_assert!(!registered.matches(&other_host));
    }

    /// Whatever parses as a scope prints canonically and parses back to itself; arbitrary text
    /// never panics.
    #[test]
    fn scopes_round_trip(text in any::<String>()) {
        if let Ok(set) = ScopeSet::parse(&text) {
            let printed = set.to_string();
            prop_assert_eq!(ScopeSet::parse(&printed).unwrap(), set.clone());
            prop_assert!(!printed.contains("  "));
            for scope in set.iter() {
                prop_assert!(text.split(' ').any(|t| t == scope.as_str()));
            }
        }
    }

    /// Valid scope tokens, in any order and with repeats, give the set of distinct tokens.
    #[test]
    fn scope_sets_are_sets(tokens in prop::collection::vec("[!#-\\[\\]-~]{1,10}", 1..10)) {
        let text = tokens.join(" ");
        let set = ScopeSet::parse(&text).unwrap();
        let distinct: std::collections::BTreeSet<&String> = tokens.iter().collect();
        prop_assert_eq!(set.len(), distinct.len());
    }
}
