#!/usr/bin/env python3
"""A bounded load test of `megacluster serve` on loopback: N requests of POST /api/run at a fixed
concurrency with a small scenario; prints failures, p50/p99 latency and the server's peak RSS.

    cargo build --release && scripts/load-web.py [--requests 200] [--concurrency 8] [--scenario FILE]

Starts its own server on a free loopback port and stops it at the end; sends traffic to 127.0.0.1
only and stops after the given number of requests.
"""
import argparse, http.client, os, re, subprocess, sys, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--requests", type=int, default=200)
ap.add_argument("--concurrency", type=int, default=8)
ap.add_argument("--scenario", default="examples/anthropic-trainium.toml")
ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "megacluster"))
a = ap.parse_args()

body = open(a.scenario, "rb").read()
srv = subprocess.Popen([a.bin, "serve", "--addr", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
line = srv.stdout.readline()
port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))

peak_kb = 0
stop = False
def rss_of_tree():
    # the server and its worker processes (one per computation)
    total = 0
    pids = [srv.pid]
    try:
        out = subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-A"], capture_output=True, text=True).stdout
        rows = [list(map(int, r.split())) for r in out.strip().splitlines()]
        server = sum(r[2] for r in rows if r[0] == srv.pid)
        workers = [r[2] for r in rows if r[1] == srv.pid]
        return server, workers
    except Exception:
        return 0, []
peak_server = 0
peak_total = 0
def watch():
    global peak_server, peak_total
    while not stop:
        s, w = rss_of_tree()
        peak_server = max(peak_server, s)
        peak_total = max(peak_total, s + sum(w))
        time.sleep(0.02)
threading.Thread(target=watch, daemon=True).start()

lat, fails, lock = [], [], threading.Lock()
todo = list(range(a.requests))
def client():
    while True:
        with lock:
            if not todo:
                return
            todo.pop()
        t = time.perf_counter()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            c.request("POST", "/api/run", body)
            r = c.getresponse()
            data = r.read()
            c.close()
            ok = r.status == 200 and data.startswith(b"{")
        except Exception as e:
            ok, data = False, str(e).encode()
        dt = time.perf_counter() - t
        with lock:
            (lat.append(dt) if ok else fails.append(data[:200]))

t0 = time.perf_counter()
ts = [threading.Thread(target=client) for _ in range(a.concurrency)]
for t in ts: t.start()
for t in ts: t.join()
wall = time.perf_counter() - t0
stop = True
srv.terminate(); srv.wait()
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3 if lat else float("nan")
print(f"{a.requests} requests of POST /api/run ({a.scenario}) at concurrency {a.concurrency}: "
      f"{len(fails)} failed, {wall:.1f} s in all")
print(f"latency p50 {q(0.50):.0f} ms, p99 {q(0.99):.0f} ms, max {q(1.0):.0f} ms")
print(f"peak RSS: server {peak_server/1024:.1f} MiB, server and its workers together {peak_total/1024:.1f} MiB")
for f in fails[:3]: print("failure:", f)
sys.exit(1 if fails else 0)
