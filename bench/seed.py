#!/usr/bin/env python3
"""Seeds users and live sessions straight into a Tessera store, in bulk.

Used by bench/run.sh's "million" phase; python3's standard library only.

    bench/seed.py sqlite --db VAR/tessera.db [--users N] [--sessions M] [--template bench]
    bench/seed.py mysql  --database-url mysql://root@127.0.0.1:3306/DB \\
                         --redis-url redis://127.0.0.1:6379 --prefix 'tessera-bench:DB:' \\
                         [--users N] [--sessions M] [--template bench]
    bench/seed.py redis-clean --redis-url redis://127.0.0.1:6379 --prefix 'tessera-bench:DB:'

Every seeded row is a real row the server reads: users copy the template
account's password hash (register it through the API first, so the hash has
the server's parameters; its password logs every seeded user in), role and
timestamps, with their own name seed<tag>_<n>, address seed<tag>_<n>@seed.example,
canonical username (identifiers_version 1, so no backfill touches them) and
UUID. Sessions are copied from one of the template's live sessions (same
timestamp format, same expiry in the future, not revoked) with their own id,
user and a random refresh fingerprint (no refresh token matches it, so they
are live but never rotated); session n belongs to seeded user n mod N.

Where they go:
- sqlite: users and sessions into the embedded database, each with one
  INSERT … SELECT over a recursive counter in one transaction (Python's
  sqlite3, no round trip per row);
- mysql: users into MySQL/MariaDB with INSERT … SELECT over a cross join of
  a digits table (no client-side rows at all), through the `mariadb` (or
  `mysql`) client; sessions into Redis as the server keeps them there
  (crates/redis/src/sessions.rs: the hash <prefix>session:<sid>, the set
  <prefix>user-sessions:<uid>, both expiring an hour after the session's
  end), written as RESP and piped into `redis-cli --pipe`.

Ids are explicit (the current maximum + 1 …), so nothing depends on the
database handing out consecutive auto-increment values. Prints one line per
step with its time, and a last line `seeded users=N sessions=M seconds=T`.
"""

import argparse
import datetime
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse

# Same for every run of this script: what the seeded rows are called.
EMAIL_DOMAIN = "seed.example"
USER_AGENT = "tessera-bench-seed"


def log(msg):
    print(msg, flush=True)


class Step:
    def __init__(self, what):
        self.what = what

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.secs = time.perf_counter() - self.t0
        if exc[0] is None:
            log(f"  {self.what}: {self.secs:.1f} s")


def uuid_of(prefix8, n):
    """A UUID-shaped id: 8 hex digits of this run, then n (version 4 / variant 8 nibbles)."""
    return f"{prefix8}-0000-4000-8000-{n:012x}"


# ---------------------------------------------------------------- SQLite


def seed_sqlite(args):
    t0 = time.perf_counter()
    con = sqlite3.connect(args.db, timeout=30, isolation_level=None)
    con.execute("PRAGMA busy_timeout = 30000")
    con.execute("PRAGMA cache_size = -262144")  # 256 MiB for the index pages of this connection
    con.execute("PRAGMA foreign_keys = ON")
    tpl = con.execute(
        "SELECT id, password_hash, role, email_verified, created_at, updated_at "
        "FROM users WHERE username_canonical = ?",
        (args.template.lower(),),
    ).fetchone()
    if tpl is None:
        sys.exit(f"seed: no user {args.template!r} in {args.db}: register it through the API first")
    tpl_id, pw_hash, role, verified, created_at, updated_at = tpl
    stpl = con.execute(
        "SELECT generation, created_at, last_used_at, expires_at, amr, auth_time FROM sessions "
        "WHERE user_id = ? AND revoked_at IS NULL ORDER BY expires_at DESC LIMIT 1",
        (tpl_id,),
    ).fetchone()
    if stpl is None and args.sessions:
        sys.exit(f"seed: {args.template!r} has no live session to copy: log it in first")
    if stpl is not None and datetime.datetime.fromisoformat(stpl[3]) <= datetime.datetime.utcnow():
        sys.exit(f"seed: {args.template!r}'s newest session ended at {stpl[3]}: log it in again")
    tag = args.tag
    first = con.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM users").fetchone()[0]
    uprefix, sprefix = secrets.token_hex(4), secrets.token_hex(4)
    con.create_function("uuid_of", 2, uuid_of, deterministic=True)
    log(f"seeding {args.users} users and {args.sessions} sessions into {args.db} (ids from {first}, names seed{tag}_<n>)")
    con.execute("BEGIN IMMEDIATE")
    try:
        with Step(f"{args.users} users"):
            con.execute(
                """
                WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < :count)
                INSERT INTO users (id, public_id, username, email, phone, password_hash, role,
                                   is_active, email_verified, created_at, updated_at,
                                   username_canonical, identifiers_version)
                SELECT :first + n, uuid_of(:uprefix, n), 'seed' || :tag || '_' || n,
                       'seed' || :tag || '_' || n || '@' || :domain, NULL, :hash, :role,
                       1, :verified, :created, :updated, 'seed' || :tag || '_' || n, 1
                FROM c
                """,
                dict(count=args.users, first=first, uprefix=uprefix, tag=tag, domain=EMAIL_DOMAIN,
                     hash=pw_hash, role=role, verified=verified, created=created_at, updated=updated_at),
            )
        if args.sessions:
            gen, s_created, s_used, s_expires, amr, auth_time = stpl
            with Step(f"{args.sessions} sessions"):
                con.execute(
                    """
                    WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < :count)
                    INSERT INTO sessions (id, user_id, generation, refresh_fingerprint, created_at,
                                          last_used_at, rotated_at, expires_at, revoked_at, ip,
                                          user_agent, amr, auth_time)
                    SELECT uuid_of(:sprefix, n), :first + (n % :users), :gen, lower(hex(randomblob(32))),
                           :created, :used, NULL, :expires, NULL, '192.0.2.1', :ua, :amr, :auth_time
                    FROM c
                    """,
                    dict(count=args.sessions, sprefix=sprefix, first=first, users=args.users, gen=gen,
                         created=s_created, used=s_used, expires=s_expires, ua=USER_AGENT, amr=amr,
                         auth_time=auth_time if auth_time is not None else s_created),
                )
        with Step("commit"):
            con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    with Step("checkpoint (WAL into the database file)"):
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    done(args, t0, first)


# ---------------------------------------------------------------- MySQL + Redis


def mysql_argv(url):
    u = urllib.parse.urlparse(url)
    db = u.path.lstrip("/")
    if not db:
        sys.exit("seed: --database-url needs a database name")
    client = shutil.which("mariadb") or shutil.which("mysql")
    if not client:
        sys.exit("seed: neither mariadb nor mysql client found")
    argv = [client, "--protocol=tcp", "-h", u.hostname or "127.0.0.1", "-P", str(u.port or 3306),
            "-u", urllib.parse.unquote(u.username or "root"), "-N", "-B", db]
    if u.password:
        argv.insert(1, f"--password={urllib.parse.unquote(u.password)}")
    return argv


def mysql(argv, sql):
    r = subprocess.run(argv, input=sql, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"seed: mysql failed: {r.stderr.strip()}\n{sql[:500]}")
    return [line.split("\t") for line in r.stdout.splitlines()]


def sql_str(s):
    return "'" + str(s).replace("\\", "\\\\").replace("'", "''") + "'"


class Resp:
    """The few Redis commands this script needs, over one socket (RESP2)."""

    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379))
        self.f = self.sock.makefile("rb")
        if u.password:
            self.cmd("AUTH", *( [urllib.parse.unquote(u.username)] if u.username else []),
                     urllib.parse.unquote(u.password))
        db = u.path.lstrip("/")
        if db:
            self.cmd("SELECT", db)

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(out)

    def read(self):
        line = self.f.readline()
        kind, rest = line[:1], line[1:-2]
        if kind in (b"+", b":"):
            return int(rest) if kind == b":" else rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError(f"unexpected reply {line!r}")

    def cmd(self, *args):
        self.sock.sendall(self.encode(*args))
        return self.read()

    def pipeline(self, commands):
        self.sock.sendall(b"".join(self.encode(*c) for c in commands))
        return [self.read() for _ in commands]


def redis_template(r, prefix, user_id):
    members = r.cmd("SMEMBERS", f"{prefix}user-sessions:{user_id}") or []
    best = None
    for sid in members:
        flat = r.cmd("HGETALL", f"{prefix}session:{sid}") or []
        h = dict(zip(flat[::2], flat[1::2]))
        if h and "revoked_at" not in h and (best is None or int(h["expires_at"]) > int(best["expires_at"])):
            best = h
    if best is not None and int(best["expires_at"]) <= time.time() * 1_000_000:
        return None  # ended: nothing live to copy
    return best


def seed_mysql(args):
    t0 = time.perf_counter()
    argv = mysql_argv(args.database_url)
    rows = mysql(argv, f"SELECT id, password_hash, role, email_verified, "
                       f"DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'), "
                       f"DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f') "
                       f"FROM users WHERE username_canonical = {sql_str(args.template.lower())}")
    if not rows:
        sys.exit(f"seed: no user {args.template!r} in the database: register it through the API first")
    tpl_id, pw_hash, role, verified, created_at, updated_at = rows[0]
    first = int(mysql(argv, "SELECT COALESCE(MAX(id), 0) + 1 FROM users")[0][0])
    r = Resp(args.redis_url)
    stpl = redis_template(r, args.prefix, tpl_id) if args.sessions else None
    if args.sessions and stpl is None:
        sys.exit(f"seed: {args.template!r} has no live session in Redis under {args.prefix!r}: log it in first")
    tag, uprefix = args.tag, secrets.token_hex(4)
    log(f"seeding {args.users} users into MySQL and {args.sessions} sessions into Redis "
        f"(ids from {first}, names seed{tag}_<n>, keys {args.prefix}…)")
    # n = 0 … 10^k - 1 from k copies of a ten-row table; chunks of 100,000 rows per statement.
    chunk = 100_000
    nums = ("(SELECT d0.d + 10*d1.d + 100*d2.d + 1000*d3.d + 10000*d4.d AS n FROM "
            + ", ".join(f"seed_digits d{i}" for i in range(5)) + ")")
    stmts = [
        "SET SESSION unique_checks = 0;",
        "SET SESSION foreign_key_checks = 0;",
        "CREATE TEMPORARY TABLE seed_digits (d INT NOT NULL PRIMARY KEY);",
        "INSERT INTO seed_digits (d) VALUES " + ",".join(f"({d})" for d in range(10)) + ";",
    ]
    for base in range(0, args.users, chunk):
        count = min(chunk, args.users - base)
        stmts.append(
            "INSERT INTO users (id, public_id, username, email, phone, password_hash, role, is_active, "
            "email_verified, created_at, updated_at, username_canonical, identifiers_version) "
            f"SELECT {first + base} + c.n, CONCAT({sql_str(uprefix + '-0000-4000-8000-')}, LPAD(HEX({base} + c.n), 12, '0')), "
            f"CONCAT('seed{tag}_', {base} + c.n), CONCAT('seed{tag}_', {base} + c.n, '@{EMAIL_DOMAIN}'), NULL, "
            f"{sql_str(pw_hash)}, {sql_str(role)}, TRUE, {int(verified)}, {sql_str(created_at)}, {sql_str(updated_at)}, "
            f"CONCAT('seed{tag}_', {base} + c.n), 1 FROM {nums} c WHERE c.n < {count};"
        )
    with Step(f"{args.users} users (MySQL, INSERT … SELECT in chunks of {chunk})"):
        mysql(argv, "\n".join(stmts))
    if args.sessions:
        with Step(f"{args.sessions} sessions (Redis, RESP into redis-cli --pipe)"):
            pipe_sessions(args, stpl, first)
    done(args, t0, first)


def pipe_sessions(args, tpl, first):
    """HSET + EXPIREAT per session, SADD + EXPIREAT per index, as the server writes them."""
    u = urllib.parse.urlparse(args.redis_url)
    cli = [shutil.which("redis-cli") or "redis-cli", "-h", u.hostname or "127.0.0.1", "-p", str(u.port or 6379)]
    if u.password:
        cli += ["-a", urllib.parse.unquote(u.password), "--no-auth-warning"]
    if u.path.lstrip("/"):
        cli += ["-n", u.path.lstrip("/")]
    proc = subprocess.Popen(cli + ["--pipe"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # The same end as the server: an hour after the session's absolute end.
    end = str(int(tpl["expires_at"]) // 1_000_000 + 3600).encode()
    fields = []
    for k in ("generation", "created_at", "last_used_at", "expires_at", "amr", "auth_time"):
        if k in tpl:
            fields += [k.encode(), tpl[k].encode()]
    if "auth_time" not in tpl:
        fields += [b"auth_time", tpl["created_at"].encode()]
    fields += [b"ip", b"192.0.2.1", b"user_agent", USER_AGENT.encode()]
    prefix = args.prefix.encode()
    sprefix = secrets.token_hex(4)

    def bulk(b):  # a fixed argument, escaped for the % below
        return (b"$%d\r\n%s\r\n" % (len(b), b)).replace(b"%", b"%%")

    # Per session four commands, formatted from fixed templates (one % per session).
    static = b"".join(bulk(f) for f in fields)
    hset_argc = 2 + 4 + len(fields)
    template = (
        b"*3\r\n" + bulk(b"SADD") + b"$%d\r\n%s\r\n$36\r\n%s\r\n"
        + b"*3\r\n" + bulk(b"EXPIREAT") + b"$%d\r\n%s\r\n" + bulk(end)
        + b"*%d\r\n" % hset_argc + bulk(b"HSET") + b"$%d\r\n%s\r\n" + bulk(b"user_id")
        + b"$%d\r\n%s\r\n" + bulk(b"fingerprint") + b"$64\r\n%s\r\n" + static
        + b"*3\r\n" + bulk(b"EXPIREAT") + b"$%d\r\n%s\r\n" + bulk(end)
    )
    ukey_prefix, skey_prefix = prefix + b"user-sessions:", prefix + b"session:"
    batch = []
    for start in range(0, args.sessions, 10_000):
        stop = min(args.sessions, start + 10_000)
        fps = os.urandom(32 * (stop - start)).hex().encode()
        for i, n in enumerate(range(start, stop)):
            sid = b"%s-0000-4000-8000-%012x" % (sprefix.encode(), n)
            uid = b"%d" % (first + n % args.users)
            ukey, skey = ukey_prefix + uid, skey_prefix + sid
            batch.append(template % (len(ukey), ukey, sid, len(ukey), ukey, len(skey), skey,
                                     len(uid), uid, fps[64 * i:64 * i + 64], len(skey), skey))
        proc.stdin.write(b"".join(batch))
        batch = []
    proc.stdin.close()
    out = proc.stdout.read().decode()
    proc.wait()
    last = out.strip().splitlines()[-1] if out.strip() else ""
    if proc.returncode != 0 or "errors: 0" not in last:
        sys.exit(f"seed: redis-cli --pipe: {out.strip()}")
    log(f"  redis-cli: {last}")


def redis_clean(args):
    """Deletes every key under the prefix: SCAN + UNLINK in batches (never blocks Redis long)."""
    t0 = time.perf_counter()
    r = Resp(args.redis_url)
    cursor, n = "0", 0
    pattern = args.prefix.replace("*", "\\*").replace("?", "\\?").replace("[", "\\[") + "*"
    while True:
        cursor, keys = r.cmd("SCAN", cursor, "MATCH", pattern, "COUNT", 10000)
        if keys:
            n += r.cmd("UNLINK", *keys)
        if cursor == "0":
            break
    log(f"deleted {n} keys under {args.prefix} in {time.perf_counter() - t0:.1f} s")


def done(args, t0, first):
    secs = time.perf_counter() - t0
    log(f"first seeded user: id {first}, username seed{args.tag}_0, password: the template's")
    log(f"seeded users={args.users} sessions={args.sessions} first_id={first} tag={args.tag} seconds={secs:.1f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="store", required=True)

    def common(sp):
        sp.add_argument("--users", type=int, default=int(os.environ.get("SEED_USERS", 1_000_000)))
        sp.add_argument("--sessions", type=int, default=int(os.environ.get("SEED_SESSIONS", 1_000_000)))
        sp.add_argument("--template", default="bench", help="the registered user whose hash and session are copied")
        sp.add_argument("--tag", default=secrets.token_hex(3), help="part of every seeded name (default: random)")

    s = sub.add_parser("sqlite", help="the embedded default's SQLite file")
    s.add_argument("--db", required=True, help="$TESSERA_VAR_DIR/tessera.db")
    common(s)
    m = sub.add_parser("mysql", help="users into MySQL/MariaDB, sessions into Redis")
    m.add_argument("--database-url", required=True)
    m.add_argument("--redis-url", required=True)
    m.add_argument("--prefix", default="", help="REDIS_KEY_PREFIX of the server")
    common(m)
    c = sub.add_parser("redis-clean", help="delete every key under a prefix")
    c.add_argument("--redis-url", required=True)
    c.add_argument("--prefix", required=True)
    args = p.parse_args()
    if args.store != "redis-clean" and (args.users < 1 or args.sessions < 0):
        sys.exit("seed: --users must be ≥ 1 and --sessions ≥ 0")
    if args.store == "redis-clean" and not args.prefix:
        sys.exit("seed: refusing to delete every key: give --prefix")
    {"sqlite": seed_sqlite, "mysql": seed_mysql, "redis-clean": redis_clean}[args.store](args)


if __name__ == "__main__":
    main()
