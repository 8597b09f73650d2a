#!/usr/bin/env python3
"""Coherence lag between two Tessera instances (or processes) on one store.

    bench/coherence.py A_URL B_URL [-n 200] [--cli ./target/release/tessera]
                       [--kinds logout,password,disable-cli,role-api] [--json out.json]

Repeated N times, each time with a fresh account registered on A: log it in
on A, poll B's GET /api/auth/me with that token until B answers the live state
twice in a row (200; with the granted role for the role flips: B's cache, if
any, is warm), then flip the state on A and poll B about every millisecond
until B shows the flip. The lag is from the end of the flip (the end of A's
answer, or the exit of the CLI command) to the end of B's first answer that
shows it; it is an upper bound (it includes that poll's own round trip,
whose distribution is printed too). The "lower" column is the other side:
when the last poll that still showed the old state was sent (B changed
between the two).
Flips, in rotation (--kinds):

  logout       POST A /api/auth/logout with the token B is polled with
  password     POST A /api/auth/change-password from a second session of the
               account (that session stays; the polled one must end)
  disable-cli  `tessera user disable --user NAME` (then `user enable`, untimed)
  disable-api  POST A /api/admin/users/{id}/disable (then /enable, untimed)
  role-api     DELETE A /api/admin/users/{id}/roles/admin after a grant: B's
               /me must stop listing the role's permissions (user:read)
  role-cli     the same grant and revoke with `tessera user grant|revoke`

The CLI (--cli) runs with this script's environment: give it the server's
(TESSERA_ENV, JWT_SECRET_KEY, TESSERA_VAR_DIR or DATABASE_URL, REDIS_URL,
REDIS_KEY_PREFIX, …) so it reaches the same store. The admin flips log in as
--admin NAME:PASSWORD, or, with --cli, as a super_admin this script creates.
Each request to A carries its own X-Forwarded-For address, so a server that
trusts 127.0.0.1 (TRUSTED_PROXIES) counts no two of them against one address.

Under load: unless --load-connections 0, wrk keeps GET /api/auth/me (another
account's token) running against B for the whole run; its rate is printed.

Prints the lag distribution (n, p50, p95, p99, max in ms; the lower
bound's p99) per kind and overall, what B answered when it showed each flip, and the number of polls
on B sent more than --bound-ms after a flip that still showed the old state.
Uses only HTTP and the CLI, nothing of the server's internals. Accounts it
creates stay (named coh<tag>_<n>; run.sh drops the whole store afterwards).
"""

import argparse
import http.client
import json
import math
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

ROLE = "admin"
ROLE_PERMISSION = "user:read"  # admin has it; the registration roles do not


class Http:
    """One keep-alive connection to a base URL; reconnects when the server closes it."""

    def __init__(self, base):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = None

    def request(self, method, path, body=None, token=None, xff=None):
        headers = {}
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if xff:
            headers["X-Forwarded-For"] = xff
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise


def body_json(data):
    try:
        return json.loads(data)
    except ValueError:
        return {}


def must(status, data, ok, what):
    if status not in ok:
        raise SystemExit(f"coherence: {what}: {status} {data[:300].decode(errors='replace')}")
    return body_json(data)


class Run:
    def __init__(self, a):
        self.args = a
        self.A = Http(a.a_url)
        self.B = Http(a.b_url)
        self.tag = secrets.token_hex(3)
        self.n_xff = 0
        self.admin_token = None
        self.cli_times = []
        self.poll_ms = []  # every round trip of a poll on B

    def xff(self):
        self.n_xff += 1
        n = self.n_xff
        return f"10.{200 + (n >> 16) % 50}.{(n >> 8) % 256}.{n % 256}"

    # -- accounts

    def register(self, name, password):
        s, d = self.A.request("POST", "/api/auth/register", xff=self.xff(), body={
            "username": name, "email": f"{name}@coherence.example", "password": password})
        return must(s, d, (200, 201), f"register {name} on A")["user"]["id"]

    def login(self, name, password):
        s, d = self.A.request("POST", "/api/auth/login", xff=self.xff(),
                              body={"username": name, "password": password})
        return must(s, d, (200,), f"login {name} on A")["access_token"]

    def cli(self, *argv):
        if not self.args.cli:
            raise SystemExit("coherence: this flip needs --cli PATH (the tessera binary)")
        t0 = time.perf_counter()
        r = subprocess.run([self.args.cli, *argv], capture_output=True, text=True)
        self.cli_times.append((time.perf_counter() - t0) * 1000)
        if r.returncode != 0:
            raise SystemExit(f"coherence: tessera {' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()[-500:]}")

    def admin(self, method, path, body=None):
        for attempt in (1, 2):
            if self.admin_token is None:
                name, _, password = self.args.admin.partition(":")
                self.admin_token = self.login(name, password)
            s, d = self.A.request(method, path, body=body, token=self.admin_token, xff=self.xff())
            if s == 401 and attempt == 1:  # the admin's access token expired: log in again
                self.admin_token = None
                continue
            return must(s, d, (200, 201), f"{method} {path} on A")

    # -- B's view

    def me_on_b(self, token):
        t0 = time.perf_counter()
        s, d = self.B.request("GET", "/api/auth/me", token=token)
        self.poll_ms.append((time.perf_counter() - t0) * 1000)
        return s, body_json(d)

    @staticmethod
    def has_role(body):
        u = body.get("user", {})
        return ROLE_PERMISSION in u.get("permissions", []) or ROLE in u.get("roles", [])

    def warm(self, token, role):
        """Polls B until it shows the live state twice in a row."""
        deadline = time.perf_counter() + self.args.timeout_s
        ok = 0
        while ok < 2:
            s, body = self.me_on_b(token)
            ok = ok + 1 if s == 200 and (not role or self.has_role(body)) else 0
            if time.perf_counter() > deadline:
                raise SystemExit(f"coherence: B never showed the live state (last: {s} {body})")
            time.sleep(0.001)

    def watch(self, token, role, flip_end):
        """Polls B until the flip shows.

        Returns (lag, lower, answer, stale): lag (ms) ends with the answer of
        the first poll that shows the flip, None if none did in time; lower
        (ms) is when the last poll that still showed the old state was sent
        (0 if none): B changed between the two. stale counts the polls sent
        past the bound that still showed the old state.
        """
        interval = self.args.poll_ms / 1000
        bound = self.args.bound_ms / 1000
        stale = 0
        lower = 0.0
        while True:
            sent = time.perf_counter()
            s, body = self.me_on_b(token)
            got = time.perf_counter()
            shown = (s == 200 and not self.has_role(body)) if role else s != 200
            if shown:
                if s == 200:
                    answer = f"200 without {ROLE_PERMISSION}"
                else:
                    answer = f"{s} {body.get('code') or body.get('msg') or body.get('error') or ''}".strip()
                return (got - flip_end) * 1000, lower, answer, stale
            if s != 200:  # neither the old nor the new state: say so
                print(f"  unexpected answer from B: {s} {body}", file=sys.stderr)
            lower = max(0.0, (sent - flip_end) * 1000)
            if sent - flip_end > bound:
                stale += 1
            if got - flip_end > self.args.timeout_s:
                return None, lower, f"still {s} after {self.args.timeout_s:g} s", stale
            rest = interval - (time.perf_counter() - sent)
            if rest > 0:
                time.sleep(rest)

    # -- one flip

    def once(self, i, kind):
        name = f"coh{self.tag}_{i}"
        password = f"Coh-{secrets.token_hex(8)}-Pass"
        uid = self.register(name, password)
        role = kind.startswith("role")
        if kind == "role-api":
            self.admin("POST", f"/api/admin/users/{uid}/roles", {"role": ROLE})
        elif kind == "role-cli":
            self.cli("user", "grant", "--user", name, "--role", ROLE)
        token = self.login(name, password)
        other = self.login(name, password) if kind == "password" else None
        self.warm(token, role)

        if kind == "logout":
            s, d = self.A.request("POST", "/api/auth/logout", token=token, xff=self.xff())
            must(s, d, (200,), "logout on A")
        elif kind == "password":
            s, d = self.A.request("POST", "/api/auth/change-password", token=other, xff=self.xff(), body={
                "old_password": password, "new_password": f"Coh-{secrets.token_hex(8)}-New"})
            must(s, d, (200,), "change-password on A")
        elif kind == "disable-cli":
            self.cli("user", "disable", "--user", name)
        elif kind == "disable-api":
            self.admin("POST", f"/api/admin/users/{uid}/disable")
        elif kind == "role-api":
            self.admin("DELETE", f"/api/admin/users/{uid}/roles/{ROLE}")
        elif kind == "role-cli":
            self.cli("user", "revoke", "--user", name, "--role", ROLE)
        flip_end = time.perf_counter()
        lag, lower, answer, stale = self.watch(token, role, flip_end)

        if kind == "disable-cli":
            self.cli("user", "enable", "--user", name)
        elif kind == "disable-api":
            self.admin("POST", f"/api/admin/users/{uid}/enable")
        return lag, lower, answer, stale

    # -- setup

    def make_admin(self):
        if self.args.admin:
            return
        if not self.args.cli:
            raise SystemExit("coherence: the admin flips need --admin NAME:PASSWORD or --cli PATH")
        name, password = f"cohadm{self.tag}", f"Adm-{secrets.token_hex(10)}-Pass"
        self.cli("user", "create", "--username", name, "--email", f"{name}@coherence.example",
                 "--role", "super_admin", "--password", password)
        self.cli_times.clear()
        self.args.admin = f"{name}:{password}"

    def start_load(self):
        a = self.args
        if a.load_connections <= 0:
            return None
        if not shutil.which("wrk"):
            raise SystemExit("coherence: wrk not found (or pass --load-connections 0)")
        name, password = f"cohload{self.tag}", f"Load-{secrets.token_hex(8)}-Pass"
        self.register(name, password)
        token = self.login(name, password)
        argv = ["wrk", f"-t{a.load_threads}", f"-c{a.load_connections}", "-d3600s", "--latency",
                "-H", f"Authorization: Bearer {token}", f"{a.b_url.rstrip('/')}/api/auth/me"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(1)
        return proc

    @staticmethod
    def stop_load(proc):
        if proc is None:
            return None
        proc.send_signal(signal.SIGINT)  # wrk prints its summary on SIGINT
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        return out


def pct(sorted_ms, p):
    """Nearest-rank percentile."""
    if not sorted_ms:
        return math.nan
    return sorted_ms[max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)]


def summary(lags):
    """A flip never shown counts as an infinite lag (so it weighs in the percentiles)."""
    s = sorted(math.inf if x is None else x for x in lags)
    return dict(n=len(lags), shown=sum(x is not None for x in lags), p50=pct(s, 50), p95=pct(s, 95),
                p99=pct(s, 99), max=s[-1] if s else math.nan)


def ms(x):
    return "never" if x == math.inf else f"{x:.2f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a_url")
    p.add_argument("b_url")
    p.add_argument("-n", "--count", type=int, default=200, help="flips in all (default 200)")
    p.add_argument("--kinds", default="logout,password,disable-cli,role-api",
                   help="flips in rotation: logout, password, disable-cli, disable-api, role-api, role-cli")
    p.add_argument("--cli", help="the tessera binary, run with this environment (for *-cli flips)")
    p.add_argument("--admin", help="NAME:PASSWORD of a super_admin (else created with --cli)")
    p.add_argument("--poll-ms", type=float, default=1.0, help="poll B this often (default 1)")
    p.add_argument("--bound-ms", type=float, default=100.0, help="the coherence bound (default 100)")
    p.add_argument("--timeout-s", type=float, default=5.0, help="give up on one flip after this (default 5)")
    p.add_argument("--give-up", type=int, default=5,
                   help="stop flipping a kind once this many of its flips were never shown (0: never stop)")
    p.add_argument("--load-connections", type=int, default=64, help="wrk /me load on B (0: none)")
    p.add_argument("--load-threads", type=int, default=2)
    p.add_argument("--json", help="also write the figures here")
    a = p.parse_args()
    kinds = [k.strip() for k in a.kinds.split(",") if k.strip()]
    known = {"logout", "password", "disable-cli", "disable-api", "role-api", "role-cli"}
    if not kinds or set(kinds) - known:
        p.error(f"--kinds: choose from {', '.join(sorted(known))}")

    run = Run(a)
    if {"disable-api", "role-api"} & set(kinds):
        run.make_admin()
    per_kind = {k: [] for k in kinds}
    lower_kind = {k: [] for k in kinds}
    answers = {k: {} for k in kinds}
    stale = {k: 0 for k in kinds}
    skipped = {k: 0 for k in kinds}
    load = run.start_load()
    t0 = time.perf_counter()
    try:
        for i in range(a.count):
            kind = kinds[i % len(kinds)]
            if a.give_up and sum(x is None for x in per_kind[kind]) >= a.give_up:
                skipped[kind] += 1
                continue
            lag, lower, answer, st = run.once(i, kind)
            per_kind[kind].append(lag)
            lower_kind[kind].append(lower)
            answers[kind][answer] = answers[kind].get(answer, 0) + 1
            stale[kind] += st
            if (i + 1) % 50 == 0:
                print(f"  {i + 1}/{a.count} flips", file=sys.stderr, flush=True)
    finally:
        load_out = run.stop_load(load)
    secs = time.perf_counter() - t0

    print(f"coherence: A {a.a_url}, B {a.b_url}; {a.count} flips in {secs:.0f} s "
          f"({', '.join(kinds)} in rotation); B polled every {a.poll_ms:g} ms; bound {a.bound_ms:g} ms")
    print("lag = end of the flip (A's answer or the CLI's exit) to the end of B's first answer showing it;")
    print("  lower = to the sending of B's last poll that still showed the old state (B changed in between)")
    load_rate = None
    if load_out is not None:
        m = re.search(r"Requests/sec:\s*([0-9.]+)", load_out)
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", load_out)
        load_rate = float(m.group(1)) if m else None
        print(f"load on B: wrk -t{a.load_threads} -c{a.load_connections} GET /api/auth/me, "
              f"{load_rate or 0:.0f} req/s during the run, non-2xx {bad.group(1) if bad else 0}")
    else:
        print("load on B: none")
    rtt = sorted(run.poll_ms)
    print(f"one poll of B (its round trip, which every lag includes): p50 {pct(rtt, 50):.2f} ms, "
          f"p99 {pct(rtt, 99):.2f} ms over {len(rtt)} polls")
    if run.cli_times:
        s = sorted(run.cli_times)
        print(f"CLI commands: {len(s)}, each {pct(s, 50):.0f} ms median, {s[-1]:.0f} ms max (the lag starts at its exit)")
    print(f"{'flip':<12} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'lower p99':>9} "
          f"{'stale>' + format(a.bound_ms, 'g') + 'ms':>12}  B answered")
    figures = {}
    all_lags, all_lower = [], []
    for k in kinds:
        f = summary(per_kind[k])
        f["lower_p99"] = pct(sorted(lower_kind[k]), 99)
        all_lower += lower_kind[k]
        f["stale_polls"] = stale[k]
        f["answers"] = answers[k]
        figures[k] = f
        all_lags += per_kind[k]
        f["skipped"] = skipped[k]
        told = ", ".join(f"{ans} ×{c}" for ans, c in sorted(answers[k].items()))
        if skipped[k]:
            told += f"; {skipped[k]} more not tried (--give-up {a.give_up})"
        print(f"{k:<12} {f['n']:>5} {ms(f['p50']):>8} {ms(f['p95']):>8} {ms(f['p99']):>8} {ms(f['max']):>8} "
              f"{ms(f['lower_p99']):>9} {stale[k]:>12}  {told}")
    o = summary(all_lags)
    o["stale_polls"] = sum(stale.values())
    o["lower_p99"] = pct(sorted(all_lower), 99)
    figures["overall"] = o
    print(f"{'overall':<12} {o['n']:>5} {ms(o['p50']):>8} {ms(o['p95']):>8} {ms(o['p99']):>8} {ms(o['max']):>8} "
          f"{ms(o['lower_p99']):>9} {o['stale_polls']:>12}")
    never = o["n"] - o["shown"]
    if never:
        print(f"NOT SHOWN within {a.timeout_s:g} s: {never} flips (counted as never in the percentiles)")
    if any(skipped.values()):
        print(f"not tried after {a.give_up} flips of their kind were never shown: {sum(skipped.values())}")
    if a.json:
        with open(a.json, "w") as fh:  # a never-shown lag is Infinity (Python's json reads it back)
            json.dump(dict(figures=figures, load_rps=load_rate, bound_ms=a.bound_ms, seconds=secs,
                           never_shown=never, skipped=sum(skipped.values()), cli_ms=run.cli_times,
                           poll_rtt_ms=dict(p50=pct(rtt, 50), p99=pct(rtt, 99), n=len(rtt))),
                      fh, indent=1)


if __name__ == "__main__":
    main()
