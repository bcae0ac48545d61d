"""Serve a built leaderboard folder on localhost (read-only, static files)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from truthstab.leaderboard import LeaderboardError

HOST = "127.0.0.1"


class _Handler(SimpleHTTPRequestHandler):
    """Static files only, no directory listings, and no request log on stderr per file."""

    def list_directory(self, path):  # type: ignore[override]
        self.send_error(404, "no directory listings")
        return None

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        pass


def make_server(directory: str | Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server for ``directory`` on 127.0.0.1:``port`` (port 0 picks a free one), not yet serving."""
    directory = Path(directory)
    if not (directory / "index.html").is_file():
        raise LeaderboardError(
            f"{directory} holds no index.html; run `truthstab leaderboard build --out {directory}` first"
        )
    if not 0 <= port <= 65535:
        raise LeaderboardError(f"port {port} is out of range; pass --port between 1 and 65535 (0: any free)")
    handler = functools.partial(_Handler, directory=str(directory.resolve()))
    try:
        return ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        raise LeaderboardError(
            f"cannot listen on {HOST}:{port} ({exc.strerror}); pass another --port"
        ) from exc


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"
