"""`bir site serve`: build, serve exactly the built site on 127.0.0.1, and rebuild when the register changes.

Only the output folder is served, re-resolved on every request (a rebuild renames a new folder over it):
never its parent, never a directory listing, never a hidden file (the build's marker), never a symbolic
link. Requests must name this server in their Host header (127.0.0.1, localhost or [::1] with its port), so
a web page elsewhere cannot read the register through DNS rebinding. Changes are found by polling
modification times (no extra dependency); a failed rebuild keeps serving the last good site, since
`build_site` replaces the output only on success.
"""

from __future__ import annotations

import http.server
import os
import posixpath
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bir.base.problems import UsageError
from bir.site.build import build_site

WATCHED = ("registry", "schemas", "site/docs", "site/mkdocs.yml", "bir.yaml")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def snapshot(root: Path) -> dict[str, int]:
    """Modification times of every watched file."""
    seen: dict[str, int] = {}
    for name in WATCHED:
        path = root / name
        if path.is_file():
            seen[name] = path.stat().st_mtime_ns
        elif path.is_dir():
            for f in path.rglob("*"):
                if f.is_file():
                    seen[f.relative_to(root).as_posix()] = f.stat().st_mtime_ns
    return seen


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Files of the built site only; see the module docstring."""

    site: Path = Path()
    port: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(self.site), **kwargs)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        return host in {f"{h}:{self.port}" for h in LOCAL_HOSTS} or (self.port == 80 and host in LOCAL_HOSTS)

    def _target(self) -> Path | None:
        """The file a request names inside the site, or None (hidden, a link, a folder without index.html)."""
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        parts = [p for p in posixpath.normpath("/" + path).split("/") if p]
        if any(p.startswith(".") for p in parts):
            return None
        target = self.site.joinpath(*parts)
        probe = self.site
        for p in parts:
            probe = probe / p
            if probe.is_symlink():
                return None
        if target.is_dir():
            target = target / "index.html"
            if target.is_symlink():
                return None
        return target if target.is_file() else None

    def send_head(self) -> Any:
        if not self._host_ok():
            self.send_error(421, "Misdirected Request: this server answers only for 127.0.0.1 and localhost")
            return None
        target = self._target()
        if target is None:
            self.send_error(404, "Not found")
            return None
        asked = urllib.parse.urlsplit(self.path).path
        if target.name == "index.html" and not asked.endswith(("/", "index.html")):
            self.send_response(301)  # a folder: its index page, with relative links that resolve
            self.send_header("Location", asked + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        try:
            handle = open(target, "rb")  # the base class copies and closes it
        except OSError:
            self.send_error(404, "Not found")
            return None
        stat = os.fstat(handle.fileno())
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(target)))
        self.send_header("Content-Length", str(stat.st_size))
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        return handle

    def list_directory(self, path: Any) -> None:  # never list a folder
        self.send_error(404, "Not found")
        return None


def start_server(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    """Serve `folder` (and nothing else) on 127.0.0.1:`port` (0: any free port), in a background thread."""
    handler: type[SiteHandler] = type("BoundSiteHandler", (SiteHandler,), {"site": folder.resolve(), "port": port})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    handler.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(
    root: Path, out: Path, port: int, *, log: Callable[[str], None], interval: float = 1.0, stop: threading.Event | None = None
) -> None:
    build_site(root, out, log=log)
    try:
        server = start_server(out, port)
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; choose another --port") from exc
    log(f"serving http://127.0.0.1:{server.server_address[1]}/index.html (the built site in {out}; Ctrl-C to stop)")
    last = snapshot(root)
    try:
        while not (stop and stop.is_set()):
            time.sleep(interval)
            now = snapshot(root)
            if now != last:
                last = now
                log("change detected: rebuilding")
                try:
                    build_site(root, out, log=log)
                except UsageError as exc:
                    log(f"rebuild failed, still serving the last good site: {exc}")
    finally:
        server.shutdown()
        server.server_close()
