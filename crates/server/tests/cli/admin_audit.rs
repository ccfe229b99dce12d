//! `portcullis audit`: what the administrative commands recorded, read back with filters.

use serde_json::{Value, json};

use crate::admin_cli::Operator;

fn kinds(events: &Value) -> Vec<&str> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

fn audit(operator: &Operator, filters: &[&str]) -> Value {
    let mut args = vec!["audit", "--json"];
    args.extend_from_slice(filters);
    operator.json(&args)
}

#[test]
fn commands_are_recorded_and_read_back_with_filters() {
    let operator = Operator::new();
    let uri = ["--redirect-uri", "https://app.example/cb"];
    for id in ["one", "two"] {
        operator.ok(&["client", "create", "--id", id, "--name", id, uri[0], uri[1]]);
    }
    operator.ok(&[
        "client",
        "update",
        "one",
        "--name",
        "One",
        "--scope",
        "openid email",
    ]);
    operator.ok(&["client", "rotate-secret", "one", "--grace", "1h"]);
    let ada = operator.json(&[
        "user",
        "create",
        "--email",
        "ada@example.com",
        "--name",
        "Ada",
        "--generate-password",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    operator.ok(&["user", "disable", &ada]);
    let rotated = operator.json(&[
        "keys",
        "rotate",
        "--alg",
        "ES256",
        "--activate-after",
        "0s",
        "--json",
    ]);
    // Refused commands record nothing.
    operator.fails(&[
        "client", "create", "--id", "one", "--name", "again", uri[0], uri[1],
    ]);

    let all = audit(&operator, &[]);
    assert_eq!(
        kinds(&all),
        [
            "client_created",
            "client_created",
            "client_updated",
            "client_secret_rotated",
            "user_created",
            "user_disabled",
            "keys_rotated"
        ]
    );
    for event in all.as_array().unwrap() {
        assert_eq!(event["actor"], "cli", "{event}");
        assert_eq!(event["outcome"], "success");
        assert!(
            event.get("ip").is_none(),
            "no address on the command line: {event}"
        );
        assert!(event["at"].as_str().unwrap().ends_with('Z'));
    }
    let event = |i: usize| all[i].clone();
    assert_eq!(event(0)["client_id"], "one");
    assert_eq!(event(0)["detail"], json!({"name": "one", "public": false}));
    assert_eq!(event(2)["detail"], json!({"changed": ["name", "scopes"]}));
    assert_eq!(event(3)["detail"], json!({"grace_seconds": 3600}));
    assert_eq!(event(4)["user_id"], ada.as_str());
    assert_eq!(
        event(5)["detail"],
        json!({"grants_revoked": 0, "codes_ended": 0, "sessions_ended": 0})
    );
    assert_eq!(event(6)["detail"]["kids"], json!([rotated[0]["kid"]]));

    // Filters.
    assert_eq!(
        kinds(&audit(&operator, &["--kind", "client_created"])),
        ["client_created", "client_created"]
    );
    assert_eq!(
        kinds(&audit(&operator, &["--client", "one"])),
        ["client_created", "client_updated", "client_secret_rotated"]
    );
    assert_eq!(
        kinds(&audit(&operator, &["--user", &ada])),
        ["user_created", "user_disabled"]
    );
    assert_eq!(
        kinds(&audit(
            &operator,
            &["--kind", "client_created", "--client", "two"]
        )),
        ["client_created"]
    );
    assert_eq!(audit(&operator, &["--since", "2000-01-01T00:00:00Z"]), all);
    assert_eq!(audit(&operator, &["--since", "946684800"]), all);
    assert_eq!(
        audit(&operator, &["--until", "2000-01-01T00:00:00Z"]),
        json!([])
    );
    assert_eq!(
        audit(&operator, &["--since", "4102444800"]),
        json!([]),
        "2100"
    );
    let first = all[0]["at"].as_str().unwrap();
    assert_eq!(
        audit(&operator, &["--since", first, "--until", "4102444800"]),
        all
    );

    // A page at a time: --limit, then --after the last seq seen.
    let page = audit(&operator, &["--limit", "3"]);
    assert_eq!(page.as_array().unwrap()[..], all.as_array().unwrap()[..3]);
    let after = page[2]["seq"].as_i64().unwrap().to_string();
    let next = audit(&operator, &["--limit", "3", "--after", &after]);
    assert_eq!(next.as_array().unwrap()[..], all.as_array().unwrap()[3..6]);
    let last = all[6]["seq"].as_i64().unwrap().to_string();
    assert_eq!(audit(&operator, &["--after", &last]), json!([]));

    // The text form: one line per event.
    let text = operator.ok(&["audit", "--client", "one"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let words: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(words[0], all[0]["seq"].to_string());
    assert_eq!(words[1], all[0]["at"].as_str().unwrap());
    assert_eq!(
        words[2..],
        [
            "client_created",
            "success",
            "actor=cli",
            "client=one",
            "user=-",
            "ip=-",
            "{\"name\":\"one\",\"public\":false}"
        ]
    );

    // Bad filters.
    assert_eq!(
        operator.fails(&["audit", "--kind", "everything"]),
        "unknown event kind \"everything\""
    );
    assert_eq!(
        operator.fails(&["audit", "--since", "yesterday"]),
        "\"yesterday\" is not an RFC 3339 time or a number of seconds"
    );
}

#[test]
fn a_reader_that_goes_away_ends_a_command_quietly() {
    // `portcullis audit --json | head` panicked with "failed printing to stdout".
    let operator = Operator::new();
    for id in ["one", "two", "three"] {
        operator.ok(&[
            "client",
            "create",
            "--id",
            id,
            "--name",
            id,
            "--redirect-uri",
            "https://app.example/cb",
        ]);
    }
    for args in [
        &["audit", "--json"][..],
        &["audit"],
        &["client", "list"],
        &["keys", "generate-kek"],
    ] {
        let (success, stderr) = operator.run_into_closed_pipe(args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(success, "{args:?}: {stderr}");
    }
}
