#!/usr/bin/env python3
"""Serve the app to a lecture hall: N Streamlit workers behind HAProxy, on one address.

    python scripts/serve.py                         # one worker per core, http://0.0.0.0:8501
    python scripts/serve.py --workers 4 --port 8080
    python scripts/serve.py --print-config          # show the HAProxy config; start nothing

More machines (README, "Serving a lecture hall"): on each extra machine run only workers,
reachable from the front machine,

    python scripts/serve.py --workers-only --workers 16            # binds 0.0.0.0:8601-8616

and list them on the front machine (one config line per host:port; a range a:b-c is shorthand):

    python scripts/serve.py --hosts 10.0.0.2:8601-8616 10.0.0.3:8601-8616

What it does: writes the HAProxy config from ``scripts/haproxy.cfg.in`` (cookie stickiness, the
websocket, uploads and media on the student's own worker, health checks on /_stcore/health, long
websocket timeouts), checks it with ``haproxy -c``, starts ``streamlit run Home.py`` once per
worker on 127.0.0.1:8601, 8602, … with this process's environment (so DASH_* settings apply to
every worker) plus DASH_WORKERS, the number of workers on this machine (their frames share one
budget of its cores: core.gates.frame_share), waits for them to be healthy, starts HAProxy, and
then supervises: a worker that exits is restarted on its port (with a growing pause if it keeps
dying); HAProxy marks it down meanwhile and sends its students, when they reload, to a live
worker. Ctrl-C or SIGTERM stops everything; the children also get SIGTERM if this process is
killed outright.

HAProxy comes from Debian's ``haproxy`` package; if it is missing it is installed with apt-get.
Arguments after ``--`` go to every ``streamlit run`` (e.g. ``-- --server.maxUploadSize 10``).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "scripts", "haproxy.cfg.in")
_HOST_RE = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,252}))$")


def log(msg: str) -> None:
    print(f"[serve {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------- the config

def parse_hosts(specs: list[str]) -> list[tuple[str, int]]:
    """``host:port`` or ``host:first-last`` (``[v6addr]:port`` for IPv6) -> [(host, port), …]."""
    out: list[tuple[str, int]] = []
    for spec in specs:
        host, sep, ports = spec.strip().rpartition(":")
        if not sep or not _HOST_RE.match(host):
            raise ValueError(f"--hosts: {spec!r} is not host:port (e.g. 10.0.0.2:8601 or 10.0.0.2:8601-8616)")
        m = re.fullmatch(r"([0-9]{1,5})(?:-([0-9]{1,5}))?", ports)
        if m is None:
            raise ValueError(f"--hosts: {spec!r}: the port must be a number or a range like 8601-8616")
        lo, hi = int(m[1]), int(m[2] or m[1])
        if not (1 <= lo <= hi <= 65535) or hi - lo >= 1024:
            raise ValueError(f"--hosts: {spec!r}: ports must lie in 1–65535, at most 1,024 per range")
        out.extend((host, p) for p in range(lo, hi + 1))
    if len(set(out)) != len(out):
        raise ValueError("--hosts: a host:port is listed twice")
    return out


def server_lines(local: list[tuple[str, str, int]], remote: list[tuple[str, int]]) -> list[str]:
    """One ``server`` line per worker; its name is also its cookie value."""
    lines = [f"    server {name} {addr}:{port} cookie {name}" for name, addr, port in local]
    for i, (host, port) in enumerate(remote, 1):
        lines.append(f"    server r{i} {host}:{port} cookie r{i}")
    return lines


def render_config(*, bind: str, local: list[tuple[str, str, int]], remote: list[tuple[str, int]],
                  cookie: str = "DASH_WORKER", maxconn: int = 4096, tunnel_timeout: str = "4h",
                  stats_port: int = 0) -> str:
    if not local and not remote:
        raise ValueError("no workers: give --workers N (N ≥ 1) or --hosts")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", cookie):
        raise ValueError("--cookie: letters, digits and _ only")
    if not re.fullmatch(r"[0-9]+(ms|s|m|h|d)?", tunnel_timeout):
        raise ValueError("--tunnel-timeout: a number with ms, s, m, h or d (e.g. 4h)")
    stats = ""
    if stats_port:
        stats = ("listen stats\n"
                 f"    bind 127.0.0.1:{int(stats_port)}\n"
                 "    stats enable\n"
                 "    stats uri /\n"
                 "    stats refresh 5s\n")
    with open(TEMPLATE) as f:
        text = f.read()
    for name, value in {"MAXCONN": str(int(maxconn)), "TUNNEL_TIMEOUT": tunnel_timeout, "BIND": bind,
                        "COOKIE": cookie, "SERVERS": "\n".join(server_lines(local, remote)),
                        "STATS": stats}.items():
        text = text.replace(f"@{name}@", value)
    leftover = re.findall(r"@[A-Z_]+@", text)
    if leftover:
        raise RuntimeError(f"scripts/haproxy.cfg.in has unfilled fields: {leftover}")
    return text


def bind_spec(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address and not address.startswith("[") else f"{address}:{port}"


# --------------------------------------------------------------------------- HAProxy binary

def find_haproxy() -> str | None:
    for cand in (shutil.which("haproxy"), "/usr/sbin/haproxy", "/usr/local/sbin/haproxy"):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def ensure_haproxy() -> str:
    exe = find_haproxy()
    if exe:
        return exe
    if not shutil.which("apt-get"):
        sys.exit("serve: HAProxy is not installed and this is not a Debian/Ubuntu machine: "
                 "install HAProxy 2.2 or newer and run again.")
    log("HAProxy is missing: installing Debian's haproxy package (apt-get)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-q"], check=False, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "haproxy"], check=True, env=env)
    exe = find_haproxy()
    if not exe:
        sys.exit("serve: apt-get ran but no haproxy binary was found")
    return exe


def check_config(exe: str, path: str) -> None:
    r = subprocess.run([exe, "-c", "-f", path], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"serve: HAProxy rejected the config {path}:\n{r.stdout}{r.stderr}")


# --------------------------------------------------------------------------- processes

try:   # looked up here, not in the forked child (which may not load libraries safely)
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _PRCTL = None


def free_ports(n: int, consecutive: bool = False, avoid: tuple[int, ...] = ()) -> list[int]:
    """Free loopback ports; ``consecutive``: n in a row (the workers' ports). Used by
    benchmarks/bench_load.py and tests/framework/test_proxy.py."""
    for _ in range(200):
        base = random.randint(20000, 60000 - n)
        ports = list(range(base, base + n)) if consecutive else random.sample(range(20000, 60000), n)
        ok = not set(ports) & set(avoid)
        for p in ports if ok else ():
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return ports
    raise RuntimeError("no free ports")


def die_with_parent() -> None:
    """In a child, before exec: get SIGTERM when its parent (this supervisor, a benchmark, a
    test) dies, however it dies. benchmarks/bench_load.py and tests/framework/test_proxy.py use it."""
    if _PRCTL is not None:
        _PRCTL(1, int(signal.SIGTERM))   # PR_SET_PDEATHSIG


def port_free(address: str, port: int) -> bool:
    fam = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address.strip("[]"), port))
            return True
        except OSError:
            return False


def healthy(address: str, port: int, timeout: float = 2.0) -> bool:
    host = "127.0.0.1" if address in ("0.0.0.0", "") else ("::1" if address in ("::", "[::]") else address)
    host = f"[{host.strip('[]')}]" if ":" in host else host
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/_stcore/health", timeout=timeout) as r:
            return r.status == 200
    except Exception:
        return False


def warm_up(targets: list[tuple[str, int]], timeout: float = 90.0) -> dict[tuple[str, int], float | None]:
    """Open one session on each worker and run Home once, so the lesson packages (torch, pandas, …)
    are imported before the first student arrives, not while a class waits. Seconds per worker
    (None = no answer in time; the worker still serves, its first visitor just waits longer)."""
    import asyncio

    async def one(address: str, port: int) -> float | None:
        import websockets
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        host = "127.0.0.1" if address in ("0.0.0.0", "") else address.strip("[]")
        host = f"[{host}]" if ":" in host else host
        t0 = time.perf_counter()
        try:
            async with websockets.connect(f"ws://{host}:{port}/_stcore/stream", subprotocols=["streamlit"],
                                          max_size=None, ping_interval=None, open_timeout=timeout) as ws:
                msg = BackMsg()
                msg.rerun_script.query_string = ""
                msg.rerun_script.page_name = ""
                await ws.send(msg.SerializeToString())
                while True:
                    m = ForwardMsg()
                    m.ParseFromString(await ws.recv())
                    if m.WhichOneof("type") == "script_finished":
                        return time.perf_counter() - t0
        except Exception:
            return None

    async def all_() -> list[float | None]:
        tasks = [asyncio.wait_for(one(a, p), timeout) for a, p in targets]
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    results = asyncio.run(all_()) if targets else []
    return {t: (r if isinstance(r, float) else None) for t, r in zip(targets, results)}


class Worker:
    """One ``streamlit run Home.py`` on its own port, restarted when it exits."""

    def __init__(self, name: str, address: str, port: int, extra: list[str], log_dir: str,
                 siblings: int = 1) -> None:
        self.name, self.address, self.port, self.extra = name, address, port, extra
        self.siblings = max(1, int(siblings))          # workers on this machine, this one included
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self.restarts = 0
        self.quick_deaths = 0
        self.restart_at: float | None = None
        self.warmed = False

    def start(self) -> None:
        cmd = [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.headless", "true",
               "--server.port", str(self.port), "--server.address", self.address,
               "--browser.gatherUsageStats", "false", *self.extra]
        # DASH_WORKERS: how many workers share this machine's cores (core.gates.frame_share)
        env = dict(os.environ, PYTHONUNBUFFERED="1", DASH_WORKERS=str(self.siblings))
        with open(self.log_path, "a") as out:
            out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} start: {' '.join(cmd)}\n")
            out.flush()
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=die_with_parent)
        self.started = time.time()
        self.restart_at = None
        self.warmed = False

    def tail(self, n: int = 6) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:]).rstrip()
        except OSError:
            return ""

    def check(self) -> None:
        """Called every ~0.5 s: notice an exit, schedule and do the restart."""
        now = time.time()
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                log(f"restarting worker {self.name} on port {self.port} (restart #{self.restarts})")
                self.start()
            return
        if self.proc is None or self.proc.poll() is None:
            return
        code = self.proc.returncode
        uptime = now - self.started
        self.quick_deaths = self.quick_deaths + 1 if uptime < 30 else 0
        delay = 0.0 if self.quick_deaths <= 1 else min(30.0, 2.0 ** (self.quick_deaths - 1))
        log(f"worker {self.name} (port {self.port}, pid {self.proc.pid}) exited with code {code} "
            f"after {uptime:.0f} s; its students lose their session (the run, uploads) and reconnect "
            f"to a live worker on reload. Restarting in {delay:.0f} s. Last log lines:\n{self.tail()}")
        self.restart_at = now + delay

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()


def stop_all(procs: list[subprocess.Popen], grace: float = 10.0) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.time() + grace
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Arguments after -- go to every `streamlit run`.")
    ap.add_argument("--workers", type=int, default=cores,
                    help=f"Streamlit processes on this machine (default: one per core, {cores} here; "
                         "0 with --hosts = proxy only)")
    ap.add_argument("--port", type=int, default=8501, help="the address students open (default 8501)")
    ap.add_argument("--address", default="0.0.0.0", help="where HAProxy listens (default 0.0.0.0)")
    ap.add_argument("--first-port", type=int, default=8601, help="port of the first worker (default 8601)")
    ap.add_argument("--worker-address", default=None,
                    help="where workers listen (default 127.0.0.1; 0.0.0.0 with --workers-only)")
    ap.add_argument("--hosts", nargs="+", default=[], metavar="HOST:PORT",
                    help="workers on other machines, e.g. 10.0.0.2:8601 or 10.0.0.2:8601-8616")
    ap.add_argument("--workers-only", action="store_true",
                    help="run and supervise workers only, no proxy (an extra machine for --hosts)")
    ap.add_argument("--print-config", action="store_true", help="print the HAProxy config and exit")
    ap.add_argument("--stats-port", type=int, default=0,
                    help="HAProxy's status page on 127.0.0.1:PORT (default: off)")
    ap.add_argument("--cookie", default="DASH_WORKER", help="the stickiness cookie's name")
    ap.add_argument("--tunnel-timeout", default="4h", help="idle limit of a websocket (default 4h)")
    ap.add_argument("--maxconn", type=int, default=4096, help="HAProxy's connection limit")
    ap.add_argument("--state", help="keep a JSON file with the worker ports and pids up to date here")
    ap.add_argument("--log-dir", help="the workers' logs (default: a fresh folder under /tmp)")
    ap.add_argument("--start-timeout", type=float, default=180,
                    help="seconds to wait for the workers' first health check (default 180)")
    a = ap.parse_args(argv)
    if a.workers < 0 or (a.workers == 0 and not a.hosts):
        ap.error("--workers must be ≥ 1 (or 0 together with --hosts)")
    if a.workers_only and a.hosts:
        ap.error("--workers-only runs workers for another machine's --hosts; give one or the other")
    if a.worker_address is None:
        a.worker_address = "0.0.0.0" if a.workers_only else "127.0.0.1"
    return a, extra


def write_state(path: str | None, info: dict) -> None:
    if not path:
        return
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(info, f, indent=1)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    a, extra = parse_args(sys.argv[1:] if argv is None else argv)
    local = [(f"w{i + 1}", a.worker_address, a.first_port + i) for i in range(a.workers)]
    try:
        remote = parse_hosts(a.hosts)
        config = "" if a.workers_only else render_config(
            bind=bind_spec(a.address, a.port), local=local, remote=remote, cookie=a.cookie,
            maxconn=a.maxconn, tunnel_timeout=a.tunnel_timeout, stats_port=a.stats_port)
    except ValueError as e:
        print(f"serve: {e}", file=sys.stderr)
        return 2
    if a.print_config:
        print(config, end="")
        return 0

    busy = [f"{addr}:{port}" for _, addr, port in local if not port_free(addr, port)]
    if not a.workers_only and not port_free(a.address, a.port):
        busy.insert(0, f"{a.address}:{a.port}")
    if a.stats_port and not port_free("127.0.0.1", a.stats_port):
        busy.append(f"127.0.0.1:{a.stats_port}")
    if busy:
        print(f"serve: already in use: {', '.join(busy)} (another server? choose --port / --first-port)",
              file=sys.stderr)
        return 2

    # A class holds hundreds of connections; let HAProxy and the workers have the descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft != resource.RLIM_INFINITY and soft < min(want, 65536):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, 65536), hard))

    run_dir = tempfile.mkdtemp(prefix="dash-serve-")
    log_dir = a.log_dir or run_dir
    os.makedirs(log_dir, exist_ok=True)
    haproxy_exe = cfg_path = None
    if not a.workers_only:
        haproxy_exe = ensure_haproxy()
        cfg_path = os.path.join(run_dir, "haproxy.cfg")
        with open(cfg_path, "w") as f:
            f.write(config)
        check_config(haproxy_exe, cfg_path)

    stopping = {"sig": None}

    def on_signal(signum, _frame) -> None:
        stopping["sig"] = signum

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    workers = [Worker(name, addr, port, extra, log_dir, siblings=len(local)) for name, addr, port in local]
    haproxy: subprocess.Popen | None = None
    haproxy_started = 0.0
    haproxy_restart_at: float | None = None
    proxy_url = f"http://{bind_spec(a.address, a.port)}"

    def state() -> dict:
        return {"pid": os.getpid(), "proxy": None if a.workers_only else proxy_url,
                "config": cfg_path, "log_dir": log_dir,
                "haproxy_pid": haproxy.pid if haproxy is not None else None,
                "stats": f"http://127.0.0.1:{a.stats_port}/" if a.stats_port and not a.workers_only else None,
                "workers": {w.name: {"address": w.address, "port": w.port,
                                     "pid": w.proc.pid if w.proc else None, "restarts": w.restarts,
                                     "warmed": w.warmed}
                            for w in workers},
                "remote": [f"{h}:{p}" for h, p in remote]}

    def start_haproxy() -> subprocess.Popen:
        return subprocess.Popen([haproxy_exe, "-db", "-f", cfg_path], cwd=run_dir, stdin=subprocess.DEVNULL,
                                start_new_session=True, preexec_fn=die_with_parent)

    try:
        for w in workers:
            w.start()
        write_state(a.state, state())
        if workers:
            log(f"starting {len(workers)} worker(s) on {a.worker_address}:{a.first_port}"
                f"{'-' + str(a.first_port + len(workers) - 1) if len(workers) > 1 else ''} "
                f"(logs in {log_dir})")
        deadline = time.time() + a.start_timeout
        pending = set(range(len(workers)))
        while pending and time.time() < deadline and stopping["sig"] is None:
            for i in list(pending):
                if healthy(workers[i].address, workers[i].port, 1.0):
                    pending.discard(i)
                else:
                    workers[i].check()
            time.sleep(0.3)
        ready = [w for i, w in enumerate(workers) if i not in pending]
        if ready and stopping["sig"] is None:
            took = warm_up([(w.address, w.port) for w in ready])
            for w in ready:
                w.warmed = True
            times = [t for t in took.values() if t is not None]
            write_state(a.state, state())
            log(f"warmed up {len(times)} of {len(ready)} worker(s) (imports and first run of Home: "
                f"{max(times) if times else 0:.1f} s)")
        if pending:
            log(f"not healthy after {a.start_timeout:.0f} s: {', '.join(workers[i].name for i in sorted(pending))} "
                "(going on; HAProxy sends no one there until they answer)")
        if not a.workers_only and stopping["sig"] is None:
            haproxy = start_haproxy()
            haproxy_started = time.time()
            write_state(a.state, state())
            where = (f"{len(workers)} local worker(s)" if workers else "") + \
                    (f"{' and ' if workers else ''}{len(remote)} on other machines" if remote else "")
            log(f"ready: {proxy_url} -> {where} (HAProxy pid {haproxy.pid}, config {cfg_path}"
                + (f", status page http://127.0.0.1:{a.stats_port}/" if a.stats_port else "") + ")")
        elif a.workers_only:
            log(f"workers ready for another machine's --hosts: "
                + " ".join(f"{a.worker_address}:{w.port}" for w in workers))

        while stopping["sig"] is None:
            time.sleep(0.5)
            changed = False
            for w in workers:
                pid = w.proc.pid if w.proc else None
                w.check()
                changed |= (w.proc.pid if w.proc else None) != pid
            # A restarted worker: once it answers its health check, warm it up like the others.
            cold = [w for w in workers if not w.warmed and w.restart_at is None and w.proc is not None
                    and w.proc.poll() is None and healthy(w.address, w.port, 1.0)]
            if cold:
                took = warm_up([(w.address, w.port) for w in cold], timeout=60)
                for w in cold:
                    w.warmed = True
                    t = took.get((w.address, w.port))
                    log(f"worker {w.name} is back on port {w.port}"
                        + (f" (warmed up in {t:.1f} s)" if t is not None else " (warm-up got no answer)"))
                changed = True
            if haproxy is not None:
                if haproxy_restart_at is not None and time.time() >= haproxy_restart_at:
                    haproxy, haproxy_started, haproxy_restart_at = start_haproxy(), time.time(), None
                    changed = True
                elif haproxy_restart_at is None and haproxy.poll() is not None:
                    quick = time.time() - haproxy_started < 10
                    log(f"HAProxy exited with code {haproxy.returncode}; restarting in {5 if quick else 0} s")
                    haproxy_restart_at = time.time() + (5 if quick else 0)
            if changed:
                write_state(a.state, state())
        log(f"stopping (signal {stopping['sig']})")
        return 0
    finally:
        procs = ([haproxy] if haproxy is not None else []) + [w.proc for w in workers if w.proc is not None]
        stop_all(procs)
        if a.state:
            try:
                os.remove(a.state)
            except OSError:
                pass
        # The workers' logs stay for a post-mortem; the written config goes.
        if cfg_path and os.path.exists(cfg_path):
            os.remove(cfg_path)
        if log_dir != run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
