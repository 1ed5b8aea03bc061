"""Reading production's recorded request/response pairs (../shared/reference/production-recordings)."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT.parent / "shared" / "reference" / "production-recordings"
SCENARIO = ROOT / "scenarios" / "production-recordings.yaml"


@dataclass
class Recording:
    name: str
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes | None
    max_time: float | None
    status: int
    response_headers: dict[str, str]
    response_body: str
    extra: dict = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.response_headers.get(name.lower())


def parse(path: Path) -> Recording:
    text = path.read_text(encoding="utf-8")
    request, response = text.split("### RESPONSE\n", 1)
    lines = request.splitlines()
    method, target = lines[1].split(" ", 1)
    args = shlex.split(lines[2][len("curl args:"):])
    headers, body, max_time = [], None, None
    i = 0
    while i < len(args):
        if args[i] == "-H":
            raw = args[i + 1]
            if raw.endswith(";") and ":" not in raw:  # curl's syntax for an empty header value
                headers.append((raw[:-1], ""))
            else:
                name, _, value = raw.partition(":")
                headers.append((name.strip(), value.strip()))
            i += 2
        elif args[i] == "--data-binary":
            body = args[i + 1].encode("utf-8")
            i += 2
        elif args[i] == "--max-time":
            max_time = float(args[i + 1])
            i += 2
        else:
            i += 1
    response = response.split("\n### curl time_total", 1)[0]
    response_lines = [line for line in response.split("\n") if not line.startswith("curl: (")]
    status = int(response_lines[0].split(" ")[1])
    response_headers, j = {}, 1
    while j < len(response_lines) and response_lines[j]:
        name, _, value = response_lines[j].partition(":")
        response_headers[name.strip().lower()] = value.strip()
        j += 1
    raw_body = "\n".join(response_lines[j + 1:])
    return Recording(path.name, method, target, headers, body, max_time, status, response_headers, raw_body)


def all_recordings() -> list[Recording]:
    return [parse(p) for p in sorted(RECORDINGS.glob("[0-9][0-9][0-9]-*.txt"))]


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
