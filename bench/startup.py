#!/usr/bin/python3
"""Start-up time of `chaser serve` and `chaser demo`, each run N times on a fresh temp SQLite database.

serve: from process start to the HTTP port accepting a TCP connection, and to the first successful API call
(GET /api/orders with the bearer token answering 200); the process is then stopped with SIGTERM.
demo:  time to its first line (orders stored, simulator up, engine connected) and wall time end to end (exit 0).

Usage: bench/startup.py [--runs N] [--chaser PATH] [--only serve|demo]
The default binary is the Release build (JIT); the shipped one is published ReadyToRun:
  dotnet publish src/Chaser.Cli -c Release -r linux-x64 --self-contained false -o /tmp/chaser-r2r
  bench/startup.py --chaser /tmp/chaser-r2r/chaser
Prints each run, then median and max, and the load average before and after. Stdlib only.
"""
import argparse, os, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CHASER = os.path.join(ROOT, "src/Chaser.Cli/bin/Release/net10.0/chaser")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_once(chaser, workdir):
    port = free_port()
    token = "startup-bench-token"
    env = dict(os.environ, CHASER_API_TOKEN=token, CHASER_LOG=os.path.join(workdir, "chaser.log"))
    db = os.path.join(workdir, f"serve-{port}.db")
    start = time.perf_counter()
    proc = subprocess.Popen([chaser, "serve", "--urls", f"http://127.0.0.1:{port}", "--db", db],
                            env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    listening = answered = None
    try:
        while listening is None:
            if proc.poll() is not None:
                raise SystemExit(f"chaser serve exited {proc.returncode}: {proc.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.05).close()
                listening = time.perf_counter() - start
            except OSError:
                time.sleep(0.002)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/orders",
                                         headers={"Authorization": f"Bearer {token}"})
        while answered is None:
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    if response.status == 200:
                        answered = time.perf_counter() - start
            except OSError:
                time.sleep(0.002)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return listening, answered


def demo_once(chaser, workdir, run):
    env = dict(os.environ, CHASER_LOG=os.path.join(workdir, "chaser.log"))
    db = os.path.join(workdir, f"demo-{run}.db")
    start = time.perf_counter()
    proc = subprocess.Popen([chaser, "demo", "--db", db], env=env, cwd=workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The first line is printed once the orders are stored, the simulator is up and the engine connected: what is
    # left after it is the orders being worked against the simulated market, in real time.
    ready = None
    for line in proc.stdout:
        if ready is None:
            ready = time.perf_counter() - start
    proc.wait()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"chaser demo exited {proc.returncode}: {proc.stderr.read().decode()}")
    return ready, elapsed


def summary(name, values):
    print(f"{name:<28} median {statistics.median(values) * 1000:8.0f} ms   max {max(values) * 1000:8.0f} ms"
          f"   (n={len(values)})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chaser", default=DEFAULT_CHASER)
    parser.add_argument("--only", choices=["serve", "demo"])
    args = parser.parse_args()
    if not os.access(args.chaser, os.X_OK):
        raise SystemExit(f"no chaser at {args.chaser}: dotnet build Chaser.sln -c Release first")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}   cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="chaser-startup-") as workdir:
        if args.only != "demo":
            listens, answers = [], []
            for run in range(args.runs):
                listening, answered = serve_once(args.chaser, workdir)
                print(f"serve run {run + 1}: listening {listening * 1000:6.0f} ms, first API call {answered * 1000:6.0f} ms")
                listens.append(listening)
                answers.append(answered)
            summary("serve: port accepting", listens)
            summary("serve: first API call (200)", answers)
        if args.only != "serve":
            readies, demos = [], []
            for run in range(args.runs):
                ready, elapsed = demo_once(args.chaser, workdir, run)
                print(f"demo run {run + 1}: first line {ready * 1000:6.0f} ms, wall time {elapsed * 1000:6.0f} ms")
                readies.append(ready)
                demos.append(elapsed)
            summary("demo: first line (ready)", readies)
            summary("demo: wall time", demos)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    sys.exit(main())
