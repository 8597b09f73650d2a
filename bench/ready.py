#!/usr/bin/env python3
"""Start to ready: spawns `tessera` on an empty TESSERA_VAR_DIR and times it
until GET /health answers 200, polling every 2 ms.

    bench/ready.py ./target/release/tessera [--runs 5] [--interval-ms 2]

The environment is passed on (set TESSERA_ENV, JWT_SECRET_KEY, … as for the
server); each start gets a fresh temporary TESSERA_VAR_DIR (so a fresh SQLite
file: every migration runs, and the start-up backfill), its own PORT and
HOST=127.0.0.1, and no DATABASE_URL or REDIS_URL (the embedded default). The
time runs from just before the process is spawned to the end of the first
200 answer. Each server is stopped (SIGTERM) before the next start. Prints
every start and the median; the last line is machine-readable:
`ready_ms median=… min=… max=… runs=…`.
"""

import argparse
import http.client
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def one_start(binary, interval, timeout):
    var = tempfile.mkdtemp(prefix="tessera-ready-")
    port = free_port()
    env = dict(os.environ)
    for k in ("DATABASE_URL", "REDIS_URL", "DB_HOST"):
        env.pop(k, None)
    env.update(TESSERA_VAR_DIR=var, PORT=str(port), HOST="127.0.0.1")
    log = open(os.path.join(var, "server.log"), "wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
    polls = 0
    try:
        while True:
            polls += 1
            now = time.perf_counter()
            if now - t0 > timeout:
                raise RuntimeError(f"not ready after {timeout} s (log: {var}/server.log)")
            if proc.poll() is not None:
                raise RuntimeError(f"tessera exited with {proc.returncode} (log: {var}/server.log)")
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/health")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    ms = (time.perf_counter() - t0) * 1000
                    break
            except OSError:
                pass
            rest = interval - (time.perf_counter() - now)
            if rest > 0:
                time.sleep(rest)
        # The migrations did run on this empty directory.
        db = os.path.join(var, "tessera.db")
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        migrations = con.execute("SELECT COUNT(*) FROM __diesel_schema_migrations").fetchone()[0]
        con.close()
        return ms, polls, migrations
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(var, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--interval-ms", type=float, default=2.0)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds before a start counts as failed")
    a = p.parse_args()
    times = []
    for i in range(a.runs):
        try:
            ms, polls, migrations = one_start(a.binary, a.interval_ms / 1000, a.timeout)
        except (RuntimeError, sqlite3.Error) as e:
            sys.exit(f"ready: start {i + 1}: {e}")
        times.append(ms)
        print(f"start {i + 1}: ready in {ms:.1f} ms ({polls} polls, {migrations} migrations applied)", flush=True)
    print(f"ready_ms median={statistics.median(times):.1f} min={min(times):.1f} max={max(times):.1f} runs={len(times)}")


if __name__ == "__main__":
    main()
