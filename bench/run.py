#!/usr/bin/env python3
"""The Portcullis benchmark suite: one command, one table.

Builds Portcullis, the ceiling baseline and the load generator in release mode, installs the
node-oidc-provider peer, starts each server on loopback with a fresh database, drives each
scenario for a bounded time, and prints (and writes to bench/results/latest.md) requests per
second, p50/p99 latency, server CPU time per request and peak RSS, plus the ratios the targets
are stated in. Only 127.0.0.1 is ever loaded.

    bench/run                          # SQLite, every scenario, 15 s each
    bench/run --duration 5 --only cc   # quicker, client credentials only
    bench/run --database-url postgres://postgres@127.0.0.1:5432/bench_db   # also PostgreSQL
    bench/run --soak 300               # add the 5-minute RSS soak
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "target" / "release"
PORTCULLIS = TARGET / "portcullis"
LOADGEN = TARGET / "portcullis-loadgen"
BASELINE = TARGET / "portcullis-bench-baseline"
PEER = ROOT / "bench" / "peer"
TICKS = os.sysconf("SC_CLK_TCK")
PASSWORD = "bench password 1234"
# Warnings only (a log line per request would be measured too), but the "ready on" line.
QUIET = "warn,portcullis::app=info"


def log(message):
    print(message, file=sys.stderr, flush=True)


def build():
    log("building release binaries (cargo build --release) ...")
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "-p", "portcullis", "-p", "portcullis-loadgen",
         "-p", "portcullis-bench-baseline"],
        cwd=ROOT, check=True)


def install_peer():
    if not (PEER / "node_modules" / "oidc-provider").exists():
        log("installing node-oidc-provider (npm ci) ...")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=PEER, check=True)


def cpu_seconds(pid):
    """User + system CPU time of a process, seconds (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_kib(pid, field="VmRSS"):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Server:
    """A server process whose ready line names its address."""

    def __init__(self, name, argv, cwd, env=None, ready=r"ready on ([0-9a-f.:\[\]]+)"):
        self.name = name
        self.log = open(Path(cwd) / f"{name}.log", "w+")
        started = time.monotonic()
        self.process = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **(env or {})},
                                        stdout=self.log, stderr=subprocess.STDOUT, text=True)
        pattern = re.compile(ready)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.log.seek(0)
            match = pattern.search(self.log.read())
            if match:
                self.address = match.group(1).strip('".,')
                self.base = f"http://{self.address}"
                self.startup = time.monotonic() - started
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.01)
        self.log.seek(0)
        raise RuntimeError(f"{name} did not start:\n{self.log.read()[-2000:]}")

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def cli(data, *args, stdin=None, extra_env=None):
    env = {**os.environ, **(extra_env or {})}
    out = subprocess.run([str(PORTCULLIS), *args], cwd=data, input=stdin, capture_output=True,
                         text=True, env=env, check=True)
    return out.stdout


def loadgen(scenario, base, connections, duration, warmup, **options):
    argv = [str(LOADGEN), "--scenario", scenario, "--target", base, "--connections", str(connections),
            "--duration", str(duration), "--warmup", str(warmup)]
    for key, value in options.items():
        argv += ["--" + key.replace("_", "-"), str(value)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(server, scenario, connections, args, label=None, **options):
    """Warms up, then measures one scenario; returns its row."""
    loadgen(scenario, server.base, connections, args.warmup, 0, **options)
    cpu_before = cpu_seconds(server.pid)
    result = loadgen(scenario, server.base, connections, args.duration, 0, **options)
    cpu = cpu_seconds(server.pid) - cpu_before
    done = max(result["completed"], 1)
    row = {
        "server": server.name,
        "scenario": label or scenario,
        "connections": connections,
        "per_second": result["per_second"],
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "cpu_us": cpu * 1e6 / done,
        "peak_rss_mib": rss_kib(server.pid, "VmHWM") / 1024,
        "errors": result["errors"],
        "first_error": result["first_error"],
    }
    log(f"  {server.name:<22} {label or scenario:<26} {row['per_second']:>9.0f}/s  p99 {row['p99_ms']:.2f} ms"
        f"  cpu {row['cpu_us']:.0f} µs  errors {row['errors']}")
    if result["errors"]:
        log(f"    first error: {result['first_error']}")
    return row


def sandbox(work, name):
    """A sandbox server (its demo user is onboarded and funded) and its demo credentials."""
    data = work / name
    data.mkdir()
    server = Server(f"portcullis SQLite {name}", [str(PORTCULLIS), "serve", "--sandbox", "--listen", "127.0.0.1:0",
                                                  "--log-format", "json"], data, portcullis_env("ES256"))
    credentials = (data / "portcullis-data" / "sandbox-credentials.txt").read_text()
    password = re.search(r"Demo user\s+\S+\s+password (\S+)", credentials).group(1)
    client_id, client_secret = re.search(r"client_id (\S+)\s+client_secret (\S+)", credentials).groups()
    return server, data, dict(client_id=client_id, client_secret=client_secret, email="demo@example.com",
                              password=password, redirect_uri="http://127.0.0.1/callback")


def table_rows(db, tables):
    """Row counts of these tables, read beside the running server (SQLite in WAL mode)."""
    import sqlite3
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


FLOOD_RATE = 1000


def orders_under_flood(work, args, rows):
    """Order latency alone, then while anonymous visitors flood the authorization endpoint.

    The flood is what the red team sent: cookieless GETs of /oauth/authorize, each a new
    visitor, here at FLOOD_RATE a second (the red team's was about 270). Before the fix each
    wrote a row and order placement slowed tenfold; now they write nothing, so order latency
    must stay where it was and no table but the orders' grows."""
    server, data, demo = sandbox(work, "orders")
    notes = []
    db = data / "portcullis-data" / "portcullis.db"
    anonymous = ["sessions", "authorization_requests", "spent_authorization_requests"]
    rows.append(measure(server, "order", 16, args, label="order (alone)", scope="openid orders:write", **demo))
    before = table_rows(db, anonymous + ["orders"])
    flood_seconds = args.warmup + args.duration + 2
    flood = subprocess.Popen([str(LOADGEN), "--scenario", "anonymous-authorize", "--target", server.base,
                              "--client-id", demo["client_id"], "--redirect-uri", demo["redirect_uri"],
                              "--scope", "openid orders:write", "--connections", "16",
                              "--rate", str(FLOOD_RATE), "--duration", str(flood_seconds), "--warmup", "0"],
                             stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    rows.append(measure(server, "order", 16, args, label="order (anonymous flood)", scope="openid orders:write", **demo))
    out, _ = flood.communicate(timeout=flood_seconds + 60)
    result = json.loads(out.strip().splitlines()[-1])
    after = table_rows(db, anonymous + ["orders"])
    alone = next(r for r in rows if r["scenario"] == "order (alone)")
    flooded = next(r for r in rows if r["scenario"] == "order (anonymous flood)")
    counts = ", ".join(f"{t} {before[t]} → {after[t]}" for t in anonymous)
    notes.append(
        f"anonymous flood: {result['completed']} cookieless GET /oauth/authorize in {result['seconds']:.0f} s "
        f"({result['per_second']:.0f}/s paced, {result['errors']} refused) beside 16 connections placing orders; "
        f"order p50/p99 {alone['p50_ms']:.2f}/{alone['p99_ms']:.2f} ms alone, "
        f"{flooded['p50_ms']:.2f}/{flooded['p99_ms']:.2f} ms under the flood; "
        f"rows {counts} (the order run's own 16 logins, warm-up and measured: 32 each, whatever the flood); "
        f"orders {before['orders']} → {after['orders']}")
    server.stop()
    return server, notes


def portcullis_env(alg):
    return {"PORTCULLIS_LOG_LEVEL": QUIET, "PORTCULLIS_ACCESS_TOKEN_ALG": alg,
           # The code flow logs the same user in from 127.0.0.1 thousands of times.
           "PORTCULLIS_LOGIN_FAILURES_PER_NETWORK": "100000000",
           "PORTCULLIS_LOGIN_ATTEMPTS_PER_ACCOUNT_NETWORK": "100000000",
           # One client from one address at tens of thousands of grants a second.
           "PORTCULLIS_TOKEN_REQUESTS_PER_CLIENT": "1000000000",
           "PORTCULLIS_TOKEN_REQUESTS_PER_IP": "1000000000"}


def verifier_bench():
    """The SDK verifier's criterion micro-bench; one note per benchmark."""
    out = subprocess.run(["cargo", "bench", "--locked", "-p", "portcullis-client", "--bench", "verifier", "--",
                          "--output-format", "bencher"], cwd=ROOT, capture_output=True, text=True, check=True)
    notes = []
    for line in out.stdout.splitlines():
        match = re.match(r"test (.+) \.\.\. bench:\s+([\d,]+) ns/iter \(\+/- ([\d,]+)\)", line)
        if match:
            ns = int(match.group(2).replace(",", ""))
            notes.append(f"SDK verifier, {match.group(1)}: {ns / 1000:.1f} µs per token "
                         f"(± {int(match.group(3).replace(',', '')) / 1000:.1f}), {1e9 / ns:,.0f} tokens/s on one core")
    return notes


def portcullis(data, name, alg, database_url=None, kek=None):
    env = portcullis_env(alg)
    if database_url:
        env.update({"PORTCULLIS_DATABASE_URL": database_url, "PORTCULLIS_KEY_ENCRYPTION_KEY": kek})
    created = json.loads(cli(data, "client", "create", "--name", "Bench", "--redirect-uri", "http://127.0.0.1/cb",
                             "--grant-type", "authorization_code", "--grant-type", "refresh_token",
                             "--grant-type", "client_credentials", "--scope", "openid",
                             "--json", extra_env=env))
    cli(data, "user", "create", "--email", f"bench-{alg.lower()}@example.com", "--name", "Bench",
        stdin=PASSWORD + "\n", extra_env=env)
    server = Server(name, [str(PORTCULLIS), "serve", "--listen", "127.0.0.1:0", "--log-format", "json"],
                    data, env)
    server.client = (created["client_id"], created["client_secret"])
    # A private_key_jwt client: its key from the load generator, its public half registered.
    key = data / "client-key.der"
    jwks = subprocess.run([str(LOADGEN), "--scenario", "write-client-key", "--target", "http://127.0.0.1",
                           "--client-key", str(key)], capture_output=True, text=True, check=True).stdout
    (data / "client-jwks.json").write_text(jwks)
    keyed = json.loads(cli(data, "client", "create", "--name", "Bench FAPI", "--grant-type", "client_credentials",
                           "--scope", "openid", "--jwks-file", str(data / "client-jwks.json"), "--json",
                           extra_env=env))
    server.keyed_client = (keyed["client_id"], str(key))
    server.email = f"bench-{alg.lower()}@example.com"
    return server


def table(rows):
    lines = ["| server | scenario | conns | req/s | p50 ms | p99 ms | server CPU µs/req | peak RSS MiB | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['server']} | {r['scenario']} | {r['connections']} | {r['per_second']:.0f} | "
                     f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['cpu_us']:.0f} | {r['peak_rss_mib']:.1f} | {r['errors']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=15, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per scenario")
    parser.add_argument("--only", default="", help="comma list of groups: cc,dpop,refresh,flow,introspect,resource,orders,verifier,startup")
    parser.add_argument("--database-url", default="", help="also run on this PostgreSQL database; its public schema is DROPPED and recreated first (psql)")
    parser.add_argument("--soak", type=int, default=0, help="seconds of constant load to watch RSS over")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    groups = set(filter(None, args.only.split(","))) or {"cc", "dpop", "refresh", "flow", "introspect", "resource", "orders", "verifier", "startup"}
    if not args.no_build:
        build()
    install_peer()
    rows, notes = [], []
    work = Path(tempfile.mkdtemp(prefix="portcullis-bench-"))
    log(f"working directory {work}")
    servers = []
    try:
        secret = "bench-secret-" + os.urandom(8).hex()
        if "cc" in groups:
            baseline = Server("ceiling baseline", [str(BASELINE), "0"], work, {"BASELINE_SECRET": secret})
            servers.append(baseline)
            rows.append(measure(baseline, "client-credentials", 64, args, client_id="bench",
                                client_secret=secret, token_path="/token"))
            baseline.stop()
        peer = Server("node-oidc-provider", ["node", "server.mjs"], PEER, {"PEER_SECRET": secret})
        servers.append(peer)
        peer_options = dict(client_id="bench", client_secret=secret, token_path="/token",
                            scope="openid offline_access wallet:read")
        if "cc" in groups:
            rows.append(measure(peer, "oidc-client-credentials", 64, args, **{**peer_options, "scope": ""}))
        if "refresh" in groups:
            rows.append(measure(peer, "oidc-refresh", 32, args, **peer_options))
        if "flow" in groups:
            rows.append(measure(peer, "oidc-code-flow", 16, args, **peer_options))
        peer.stop()
        for alg in (["ES256", "EdDSA"] if "cc" in groups else ["ES256"]):
            data = work / f"sqlite-{alg}"
            data.mkdir()
            server = portcullis(data, f"portcullis SQLite {alg}", alg)
            servers.append(server)
            idle = rss_kib(server.pid)
            notes.append(f"{server.name}: start-up to ready {server.startup * 1000:.0f} ms (first start, fresh database); idle RSS {idle / 1024:.1f} MiB")
            client_id, client_secret = server.client
            options = dict(client_id=client_id, client_secret=client_secret, email=server.email,
                           password=PASSWORD, scope="openid")
            if "cc" in groups:
                rows.append(measure(server, "client-credentials", 64, args, **{**options, "scope": ""}))
            if alg == "ES256" and "dpop" in groups:
                # One DPoP proof signed by the load generator and checked by the server per
                # request, its jti spent in the database (RFC 9449).
                rows.append(measure(server, "dpop-client-credentials", 64, args, **{**options, "scope": ""}))
                # The same with private_key_jwt: two signature verifications per request.
                keyed_id, key_file = server.keyed_client
                rows.append(measure(server, "fapi-client-credentials", 64, args, client_id=keyed_id,
                                    client_key=key_file))
            if alg == "ES256":
                if "refresh" in groups:
                    rows.append(measure(server, "refresh", 32, args, **options))
                if "flow" in groups:
                    rows.append(measure(server, "code-flow", 16, args, **options))
                if "introspect" in groups:
                    rows.append(measure(server, "introspect", 64, args, **options))
                if args.soak:
                    samples = []
                    soak = subprocess.Popen([str(LOADGEN), "--scenario", "client-credentials", "--target", server.base,
                                             "--client-id", client_id, "--client-secret", client_secret,
                                             "--connections", "16", "--duration", str(args.soak), "--warmup", "0"],
                                            stdout=subprocess.PIPE, text=True)
                    while soak.poll() is None:
                        samples.append(rss_kib(server.pid))
                        time.sleep(10)
                    notes.append(f"soak {args.soak} s at constant load: RSS samples (MiB) "
                                 + " ".join(f"{s / 1024:.1f}" for s in samples))
            server.stop()
            if alg == "ES256" and "startup" in groups:
                env = {"PORTCULLIS_LOG_LEVEL": QUIET}
                times = []
                for _ in range(7):
                    s = Server("startup", [str(PORTCULLIS), "serve", "--listen", "127.0.0.1:0", "--log-format", "json"], data, env)
                    times.append(s.startup)
                    s.stop()
                notes.append(f"start-up to ready on an existing SQLite database: median {statistics.median(times) * 1000:.0f} ms "
                             f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, 7 runs; spawn until the 'ready' log line, which is logged after the listener is bound and keys are loaded)")
        if "resource" in groups:
            # The sandbox's demo user has a verified profile and a wallet, as GET
            # /api/v1/wallet/me needs.
            server, _, demo = sandbox(work, "sandbox")
            servers.append(server)
            rows.append(measure(server, "resource", 64, args, scope="openid wallet:read", **demo))
            server.stop()
        if "orders" in groups:
            server, notes_ = orders_under_flood(work, args, rows)
            servers.append(server)
            notes.extend(notes_)
        if "verifier" in groups:
            notes.extend(verifier_bench())
        if args.database_url:
            # Each run has a fresh key-encryption key, which could not open an earlier run's keys.
            subprocess.run(["psql", args.database_url, "-q", "-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public"],
                           check=True)
            kek = subprocess.run([str(PORTCULLIS), "keys", "generate-kek"], capture_output=True, text=True, check=True).stdout.strip()
            data = work / "postgres"
            data.mkdir()
            server = portcullis(data, "portcullis PostgreSQL ES256", "ES256", args.database_url, kek)
            servers.append(server)
            client_id, client_secret = server.client
            options = dict(client_id=client_id, client_secret=client_secret, email=server.email,
                           password=PASSWORD, scope="openid")
            rows.append(measure(server, "client-credentials", 64, args, **{**options, "scope": ""}))
            rows.append(measure(server, "dpop-client-credentials", 64, args, **{**options, "scope": ""}))
            rows.append(measure(server, "refresh", 32, args, **options))
            rows.append(measure(server, "code-flow", 16, args, **options))
            server.stop()
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.stop()

    def rate(server, scenario):
        return next((r["per_second"] for r in rows if r["server"] == server and r["scenario"] == scenario), None)

    ratios = []
    ceiling, peer_cc = rate("ceiling baseline", "client-credentials"), rate("node-oidc-provider", "oidc-client-credentials")
    ours_cc = rate("portcullis SQLite ES256", "client-credentials")
    if ours_cc and ceiling:
        ratios.append(f"client credentials ES256 / ceiling: {ours_cc / ceiling:.2f} (target ≥ 0.60)")
    ours_dpop = rate("portcullis SQLite ES256", "dpop-client-credentials")
    if ours_dpop and ceiling:
        ratios.append(f"DPoP-bound client credentials / ceiling: {ours_dpop / ceiling:.2f} (target ≥ 0.50)")
    ours_fapi = rate("portcullis SQLite ES256", "fapi-client-credentials")
    if ours_fapi and ceiling:
        ratios.append(f"DPoP-bound client credentials with private_key_jwt / ceiling: {ours_fapi / ceiling:.2f} (target ≥ 0.50)")
    if ours_cc and peer_cc:
        ratios.append(f"client credentials ES256 / node-oidc-provider: {ours_cc / peer_cc:.2f} (target ≥ 4)")
    for ours, theirs, label in (("refresh", "oidc-refresh", "refresh grant"), ("code-flow", "oidc-code-flow", "whole code flow")):
        a, b = rate("portcullis SQLite ES256", ours), rate("node-oidc-provider", theirs)
        if a and b:
            ratios.append(f"{label} / node-oidc-provider: {a / b:.2f} (target ≥ 3)")
    cpu_count = os.cpu_count()
    report = "\n".join([
        f"# Benchmark results ({time.strftime('%Y-%m-%d %H:%M')}, {cpu_count} CPUs, loopback, load generator on the same machine)",
        "", table(rows), "", "## Ratios", "", *[f"- {r}" for r in ratios], "", "## Notes", "", *[f"- {n}" for n in notes], ""])
    print(report)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.md").write_text(report)
    (results / "latest.json").write_text(json.dumps({"rows": rows, "ratios": ratios, "notes": notes}, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
