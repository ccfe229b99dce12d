"""What every script shares with the Rust side of the test (crates/server/tests/interop/script.rs).

A script reads its settings from the environment, prints ``AUTHORIZE <url>`` when a user must
open the authorization URL and reads the callback URL the browser was sent to from stdin, and
ends with one ``RESULT <json>`` line of what it observed. Anything else it prints is log.
"""

import json
import os
import sys


def env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set")
    return value


def user_authorizes(url):
    print(f"AUTHORIZE {url}", flush=True)
    line = sys.stdin.readline()
    if not line:
        raise SystemExit("no callback URL on stdin")
    return line.strip()


def logout(metadata, build):
    """RP-initiated logout when the test turns it on (LOGOUT_REDIRECT_URI set); else None.

    ``build(post_logout_redirect_uri)`` returns the library's ``{"url", "state"}``.
    """
    post_logout_redirect_uri = os.environ.get("LOGOUT_REDIRECT_URI")
    if not post_logout_redirect_uri:
        return None
    if not metadata.get("end_session_endpoint"):
        raise SystemExit("discovery has no end_session_endpoint")
    built = build(post_logout_redirect_uri)
    print(f"LOGOUT {built['url']}", flush=True)
    landed = sys.stdin.readline().strip()
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(landed)
    return {
        "landed": f"{parts.scheme}://{parts.netloc}{parts.path}",
        "state_echoed": parse_qs(parts.query).get("state") == [built["state"]],
    }


def result(observed):
    print(f"RESULT {json.dumps(observed, default=str)}", flush=True)


def failure(error):
    """An Authlib error as ``{"name", "error"}`` for the Rust side."""
    return {"name": type(error).__name__, "error": getattr(error, "error", None)}
