"""The agent's local web UI: static pages from ``ui/`` and a JSON API, on 127.0.0.1 only.

API (every error answers ``{"error": sentence, "kind": ErrorClass}`` with a 4xx/5xx code):

=======  ==========================  ==================================================
GET      /api/status                 the agent's status (connection, practices, player…)
POST     /api/sync                   sync now → the report
GET      /api/studios                registered studios and the selected one
POST     /api/studios                {name, address, tls, token, select} register one
POST     /api/studios/select         {name}
DELETE   /api/studios/<name>
POST     /api/settings               {data_path?, sample_rate?, block_size?, sync_interval_s?, …}
POST     /api/deu                    {deu} play this deu
POST     /api/practice?deu=&steps=   body: one audio file (header X-Filename) → the practice row
GET      /api/practices              the practices this agent started
GET      /api/midi/inputs            MIDI input ports
POST     /api/midi/input             {name} ("" = the virtual port)
POST     /api/play/note              {note, velocity, on}
POST     /api/record/start
POST     /api/record/stop            → {file, url}
GET      /recordings/<file>.wav
GET      /api/versions?deu=          the deu's local versions, champion and default
POST     /api/compare                {deu, a, b, notes?} render both on the same notes → URLs + measures
GET      /compare/<id>/<file>        a comparison's WAVs and side-by-side spectrogram PNG
GET      /api/coverage?deu=&version=  coverage map cells + summary + preview files (pictures.py)
GET      /api/preview/<deu>/<v>/<f>  a preview file (recording/resynthesis .wav / .png)
=======  ==========================  ==================================================
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from instrument_agent.agent.service import Agent

__all__ = ["AgentServer", "MAX_UPLOAD_BYTES", "UploadError"]

UI_DIR = Path(__file__).parent / "ui"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
_STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "pictures.js": "text/javascript; charset=utf-8",
}
_RECORDING = re.compile(r"^recording-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}\.wav$")
_UPLOAD_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class UploadError(ValueError):
    """An uploaded practice file is missing, too large, or not audio (the message names it)."""


def _status_for(exc: BaseException) -> int:
    from instrument_agent.agent.state import StateDiskFullError
    from instrument_agent.client.sync import (
        StudioAuthError,
        StudioUnreachableError,
        SyncCorruptError,
        SyncDiskFullError,
    )
    from instrument_agent.personality import BundleWriteError

    if isinstance(exc, (SyncDiskFullError, StateDiskFullError, BundleWriteError)):
        return HTTPStatus.INSUFFICIENT_STORAGE
    if isinstance(exc, StudioUnreachableError):
        return HTTPStatus.SERVICE_UNAVAILABLE
    if isinstance(exc, StudioAuthError):
        return HTTPStatus.UNAUTHORIZED
    if isinstance(exc, SyncCorruptError):
        return HTTPStatus.BAD_GATEWAY
    if isinstance(exc, LookupError):
        return HTTPStatus.NOT_FOUND
    if isinstance(exc, UploadError) and "too large" in str(exc):
        return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    if isinstance(exc, (ValueError, RuntimeError)):
        return HTTPStatus.BAD_REQUEST
    return HTTPStatus.INTERNAL_SERVER_ERROR


class _Handler(BaseHTTPRequestHandler):
    server: AgentServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - quiet: the agent has its own status
        pass

    # -- plumbing -------------------------------------------------------------
    def _send(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, payload, code: int = 200) -> None:
        self._send(code, json.dumps(payload).encode(), "application/json")

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError as exc:
            raise ValueError(f"request body is not JSON ({exc})") from None
        if not isinstance(body, dict):
            raise ValueError("request body must be a JSON object")
        return body

    def _dispatch(self, method: str) -> None:
        url = urlparse(self.path)
        try:
            if method == "GET" and not url.path.startswith(("/api/", "/recordings/", "/compare/")):
                return self._static(url.path)
            if url.path.startswith("/compare/") and method == "GET":
                return self._compared(unquote(url.path.removeprefix("/compare/")))
            if url.path.startswith("/recordings/") and method == "GET":
                return self._recording(unquote(url.path.removeprefix("/recordings/")))
            if url.path.startswith("/api/preview/") and method == "GET":
                return self._preview(url)
            route = getattr(
                self, f"_{method.lower()}_" + url.path.removeprefix("/api/").split("/")[0].replace("-", "_"), None
            )
            if route is None:
                return self._json({"error": f"no API route {method} {url.path}", "kind": "NotFound"}, 404)
            result = route(url)
            self._json(result if result is not None else {"ok": True})
        except Exception as exc:  # noqa: BLE001 - every failure becomes a clear JSON error
            self._json({"error": str(exc) or type(exc).__name__, "kind": type(exc).__name__}, _status_for(exc))

    def do_GET(self):  # noqa: N802
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_DELETE(self):  # noqa: N802
        self._dispatch("DELETE")

    def _static(self, path: str) -> None:
        name = path.strip("/") or "index.html"
        if name not in _STATIC:
            return self._json({"error": f"no page {path}", "kind": "NotFound"}, 404)
        self._send(200, (UI_DIR / name).read_bytes(), _STATIC[name])

    def _recording(self, name: str) -> None:
        path = self.server.recordings / name
        if not _RECORDING.match(name) or not path.is_file():
            return self._json({"error": f"no recording {name!r}", "kind": "NotFound"}, 404)
        self._send(200, path.read_bytes(), "audio/wav")

    def _compared(self, name: str) -> None:
        path = self.server.comparer.file(name)
        if path is None:
            return self._json({"error": f"no comparison file {name!r}", "kind": "NotFound"}, 404)
        self._send(200, path.read_bytes(), "audio/wav" if path.suffix == ".wav" else "image/png")

    # -- pictures (instrument_agent.agent.pictures) -----------------------------
    def _get_coverage(self, url):
        query = parse_qs(url.query)
        version = (query.get("version") or ["0"])[0]
        if not version.isdigit():
            raise ValueError(f"version {version!r} is not a version number")
        return self.server.pictures.coverage((query.get("deu") or [""])[0], int(version))

    def _preview(self, url) -> None:
        parts = [unquote(p) for p in url.path.removeprefix("/api/preview/").split("/")]
        if len(parts) != 3 or not parts[1].isdigit():
            raise LookupError(f"no preview at {url.path} (expected /api/preview/<deu>/<version>/<file>)")
        data, content_type = self.server.pictures.preview_file(parts[0], int(parts[1]), parts[2])
        self._send(200, data, content_type)

    # -- routes ---------------------------------------------------------------
    @property
    def agent(self) -> Agent:
        return self.server.agent

    def _get_status(self, url):
        return self.agent.status()

    def _post_sync(self, url):
        report = self.agent.sync_now()
        return {"studio": report.studio, "deus": [d.__dict__ for d in report.deus]}

    def _get_studios(self, url):
        status = self.agent.status()
        return {"selected": status["studio"], "studios": status["studios"]}

    def _post_studios(self, url):
        body = self._body()
        if url.path.rstrip("/") == "/api/studios/select":
            self.agent.state.select_studio(str(body.get("name", "")))
            self.agent.request_sync()
            return None
        self.agent.state.add_studio(
            str(body.get("name", "")).strip(),
            str(body.get("address", "")).strip(),
            tls=bool(body.get("tls")),
            token=str(body.get("token", "")),
            select=True if body.get("select") else None,
        )
        self.agent.request_sync()
        return None

    def _delete_studios(self, url):
        name = unquote(url.path.rstrip("/").split("/")[-1])
        self.agent.state.remove_studio(name)
        return None

    def _post_settings(self, url):
        body = self._body()
        if "data_path" in body:
            self.agent.state.set_data_path(str(body.pop("data_path")))
        if body:
            self.agent.state.update_settings(**body)
        return self.agent.status()["settings"]

    def _post_deu(self, url):
        self.agent.select_deu(str(self._body().get("deu", "")))
        return None

    def _post_practice(self, url):
        query = parse_qs(url.query)
        deu = (query.get("deu") or [""])[0]
        steps = int((query.get("steps") or ["0"])[0] or 0)
        name = _UPLOAD_NAME.sub("_", unquote(self.headers.get("X-Filename") or "")).strip("._") or "audio.wav"
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0:
            raise UploadError(f"{name}: no audio was uploaded (empty file)")
        if length > MAX_UPLOAD_BYTES:
            raise UploadError(f"{name}: {length} bytes is too large (at most {MAX_UPLOAD_BYTES // 2**20} MiB)")
        folder = self.agent.state.data_path / "uploads" / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        try:
            path.write_bytes(self.rfile.read(length))
            _check_audio(path, name)
            row = self.agent.start_practice(deu, [path], steps=steps)  # uploads it to the studio
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return row.to_dict()

    def _get_practices(self, url):
        return self.agent.practices.rows()

    def _get_midi(self, url):
        return {
            "inputs": self.agent.player.midi_inputs(),
            "current": self.agent.player.midi_input,
            "status": self.agent.player.midi_status,
        }

    def _post_midi(self, url):
        name = str(self._body().get("name", ""))
        player = self.agent.player
        if name:
            player.open_midi(name)
        else:
            deu = self.agent.state.load().selected_deu or "agent"
            player.open_midi(virtual_name=f"Amadeus {deu}")
        return {"status": player.midi_status}

    def _post_play(self, url):
        body = self._body()
        self.agent.player.note(int(body.get("note", -1)), int(body.get("velocity", 100)), on=bool(body.get("on", True)))
        return None

    def _get_versions(self, url):
        deu = (parse_qs(url.query).get("deu") or [""])[0] or self.agent.state.load().selected_deu
        return self.server.comparer.versions(deu)

    def _post_compare(self, url):
        body = self._body()
        deu = str(body.get("deu") or self.agent.state.load().selected_deu)
        return self.server.comparer.compare(deu, str(body.get("a", "")), str(body.get("b", "")), body.get("notes"))

    def _post_record(self, url):
        if url.path.rstrip("/").endswith("/start"):
            self.agent.player.start_recording()
            return {"recording": True}
        path = self.agent.player.stop_recording(self.server.recordings)
        return {"file": str(path), "url": f"/recordings/{path.name}"}


def _check_audio(path: Path, name: str) -> None:
    import soundfile

    try:
        info = soundfile.info(str(path))
    except Exception as exc:  # noqa: BLE001 - soundfile raises RuntimeError/LibsndfileError
        raise UploadError(f"{name}: not an audio file this agent can read ({exc})") from None
    if info.frames == 0:
        raise UploadError(f"{name}: the audio file holds no samples")


class AgentServer(ThreadingHTTPServer):
    """The UI + API server for ``agent``, bound to 127.0.0.1:``port`` (0 = any free port)."""

    daemon_threads = True

    def __init__(self, agent: Agent, port: int = 8765, host: str = "127.0.0.1"):
        from instrument_agent.agent.pictures import PictureSource

        super().__init__((host, port), _Handler)
        self.agent = agent
        self.pictures = PictureSource(agent)
        self._thread: threading.Thread | None = None

    @property
    def recordings(self) -> Path:
        path = self.agent.state.data_path / "recordings"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def comparer(self):
        from instrument_agent.agent.ab import AbComparer

        state = self.agent.state.load()
        return AbComparer(self.agent.state.data_path, self.agent.player.sample_rate or state.settings.sample_rate)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> str:
        """Serve in a background thread; returns the UI's URL."""
        self._thread = threading.Thread(target=self.serve_forever, name="amadeus-ui", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
