"""Starts a real ``chaser serve`` (the built CLI, on the embedded simulator) on a free loopback port for the tests."""

import atexit
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..")))


def chaser_dll():
    path = os.environ.get("CHASER_DLL") or os.path.join(REPO, "src", "Chaser.Cli", "bin", "Release", "net10.0", "chaser.dll")
    if not os.path.exists(path):
        raise RuntimeError("%s is missing: build first (dotnet build Chaser.sln -c Release) or set CHASER_DLL" % path)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STARTED = []


def stop_all():
    for serve in STARTED:
        serve.stop()


class Serve:
    """``chaser serve --db DB`` on a free port, with a random token; ``url``, ``token``; ``stop()`` ends it (SIGINT,
    as Ctrl-C: working orders are canceled and the writes flushed)."""

    def __init__(self, database, extra_args=()):
        # Whatever ends the test run, no chaser serve is left behind.
        STARTED.append(self)
        atexit.register(self.stop)
        self.token = secrets.token_urlsafe(24)
        self.log_dir = tempfile.mkdtemp(prefix="chaser-py-")
        self.output = []
        for attempt in range(3):
            port = free_port()
            self.url = "http://127.0.0.1:%d" % port
            env = dict(os.environ, CHASER_API_TOKEN=self.token, CHASER_LOG=os.path.join(self.log_dir, "chaser.log"), DOTNET_NOLOGO="1")
            self.process = subprocess.Popen(
                ["dotnet", chaser_dll(), "serve", "--urls", self.url, "--db", database] + list(extra_args),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=self.log_dir, text=True,
            )
            threading.Thread(target=self._read, daemon=True).start()
            if self._wait_ready(60):
                return
            self.stop()
            if not any("cannot listen" in line for line in self.output):
                break
        raise RuntimeError("chaser serve did not start:\n" + "".join(self.output))

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)

    def _wait_ready(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                request = urllib.request.Request(self.url + "/openapi/v1.json", headers={"Authorization": "Bearer " + self.token})
                with urllib.request.urlopen(request, timeout=2):
                    return True
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        return False

    def stop(self):
        if getattr(self, "process", None) is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if not self.process.stdout.closed:
            self.process.stdout.close()


def postgres_settings():
    """libpq settings from CHASER_TEST_POSTGRES (the .NET form ``Host=…;Username=…;Password=…``), or None."""
    text = os.environ.get("CHASER_TEST_POSTGRES")
    if not text:
        return None
    from chaser.django import database_settings

    return database_settings(text)
