"""The console's HTTP server: loopback only, its pages, its JSON, and the vendored scripts.

- Every page path (`/`, `/tasks`, `/tasks/{taskId}`, `/dead-letters`, `/insights`) serves the
  one page shell; its script draws the page the path names, so deep links are stable.
- Scripts and styles come from this package (static/) and, by exact path, from the npm
  packages in the project's node_modules (VENDOR): nothing is fetched from elsewhere, and
  the Content-Security-Policy says so to the browser.
- A POST (redrive, a query) must carry the per-process token the shell embeds, come from the
  console's own origin (Origin, Sec-Fetch-Site) and be JSON: a page on another site cannot
  make the browser send one. A Host header that is not the console's own is refused
  (DNS rebinding).
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ftb.ops.console.api import ConsoleApi
from ftb.ops.target import Target

LOOPBACK = "127.0.0.1"
STATIC = Path(__file__).parent / "static"
PAGES = ("/", "/tasks", "/dead-letters", "/insights")
# URL path -> file under node_modules (the packages of package.json's dependencies).
VENDOR = {
    "/vendor/dagre.min.js": "@dagrejs/dagre/dist/dagre.min.js",
    "/vendor/uPlot.iife.min.js": "uplot/dist/uPlot.iife.min.js",
    "/vendor/uPlot.min.css": "uplot/dist/uPlot.min.css",
}
MAX_BODY = 64 * 1024
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class ConsoleSetupError(Exception):
    """The console cannot serve (its npm packages are not installed)."""


def find_node_modules(start: Path | None = None) -> Path:
    """The node_modules holding every VENDOR file: the project's (cwd up), else this checkout's."""
    candidates = []
    here = (start or Path.cwd()).resolve()
    candidates += [folder / "node_modules" for folder in (here, *here.parents)]
    candidates.append(Path(__file__).resolve().parents[3] / "node_modules")
    for folder in candidates:
        if all((folder / path).is_file() for path in VENDOR.values()):
            return folder
    raise ConsoleSetupError(
        "the console's scripts are not installed (no node_modules with "
        + ", ".join(sorted(VENDOR.values()))
        + "): run `npm ci --omit=dev` in the project (`make venv` does)"
    )


class ConsoleServer:
    """The console on 127.0.0.1:port (0: any free port), in a background thread."""

    def __init__(self, target: Target, port: int = 0, node_modules: Path | None = None) -> None:
        self.node_modules = node_modules or find_node_modules()
        self.api = ConsoleApi(target)
        self.target = target
        self.token = secrets.token_urlsafe(24)
        handler = type("Handler", (_Handler,), {"console": self})
        self.httpd = ThreadingHTTPServer((LOOPBACK, port), handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def allowed_hosts(self) -> set[str]:
        return {f"{LOOPBACK}:{self.port}", f"localhost:{self.port}"}

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="ftb-console", daemon=True
        )
        self._thread.start()
        # The first task snapshot is built now, so the first page does not wait for it.
        threading.Thread(target=self._warm, name="ftb-console-warm", daemon=True).start()

    def _warm(self) -> None:
        # A failure here is left to the first page that needs the snapshot, which says it.
        with contextlib.suppress(Exception):
            self.api.index.rows()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def shell(self) -> bytes:
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        return html.replace("{{TOKEN}}", self.token).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    console: ConsoleServer
    server_version = "ftb-console"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the page is the log
        pass

    # -- answers ---------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str, cache: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", _CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, document: Any) -> None:
        body = json.dumps(document, default=str).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _file(self, path: Path, cache: bool) -> None:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind == "application/javascript":
            kind += "; charset=utf-8"
        self._send(200, path.read_bytes(), kind, cache)

    def _host_ok(self) -> bool:
        if self.headers.get("Host", "") in self.console.allowed_hosts():
            return True
        self._json(421, {"error": "this console answers on its own address only"})
        return False

    # -- GET -------------------------------------------------------------------------

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self._host_ok():
            return
        url = urlsplit(self.path)
        path = url.path
        if path.startswith("/api/"):
            status, document = self.console.api.get(path, parse_qs(url.query))
            self._json(status, document)
        elif path in PAGES or (path.startswith("/tasks/") and path.count("/") == 2):
            self._send(200, self.console.shell(), "text/html; charset=utf-8")
        elif path in VENDOR:
            self._file(self.console.node_modules / VENDOR[path], cache=True)
        elif path.startswith("/static/") and _safe_static(path):
            self._file(STATIC / path.removeprefix("/static/"), cache=False)
        elif path == "/favicon.ico":
            self._send(204, b"", "image/x-icon", cache=True)
        else:
            self._json(
                404,
                {"error": f"no page {path}", "hint": "the pages: / /tasks /dead-letters /insights"},
            )

    # -- POST ------------------------------------------------------------------------

    def do_POST(self) -> None:
        if not self._host_ok():
            return
        refusal = self._cross_site_refusal()
        if refusal:
            self._json(403, {"error": refusal})
            return
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_BODY:
            self._json(
                413 if length.isdigit() else 411, {"error": f"a JSON body up to {MAX_BODY} bytes"}
            )
            return
        raw = self.rfile.read(int(length))
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            self._json(400, {"error": "the body is not JSON"})
            return
        status, document = self.console.api.post(urlsplit(self.path).path, body)
        self._json(status, document)

    def _cross_site_refusal(self) -> str | None:
        if self.headers.get("X-Console-Token") != self.console.token:
            return "missing or wrong X-Console-Token: reload the console page"
        origin = self.headers.get("Origin")
        if origin is not None and origin not in {
            f"http://{host}" for host in self.console.allowed_hosts()
        }:
            return f"cross-origin request from {origin} refused"
        site = self.headers.get("Sec-Fetch-Site")
        if site is not None and site not in {"same-origin", "none"}:
            return f"cross-site request ({site}) refused"
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return "the body must be application/json"
        return None


def _safe_static(path: str) -> bool:
    name = path.removeprefix("/static/")
    candidate = (STATIC / name).resolve()
    return candidate.is_file() and STATIC.resolve() in candidate.parents
