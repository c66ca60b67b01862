"""HTTP load with wrk: requests per second and latency percentiles for a list of requests."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

# Each wrk thread cycles through the request lines of $WRK_REQUESTS ("GET <path>" or
# "POST <path> <url-encoded body>"), with the headers of $WRK_HEADERS ("Name: value" lines).
# With $WRK_BUST set (to a token new for each run), every GET appends a new SPARQL comment
# to the query parameter (which must come last), so that no two requests are the same text
# and no answer cache can hit, not even with a text an earlier run sent; a POST body gets
# the comment the same way.
_SCRIPT = r"""
local requests, headers = {}, {}
for line in io.lines(os.getenv("WRK_REQUESTS")) do
  local method, path, body = line:match("^(%S+) (%S+) ?(.*)$")
  requests[#requests + 1] = {method, path, body}
end
for line in io.lines(os.getenv("WRK_HEADERS")) do
  local name, value = line:match("^([^:]+): (.*)$")
  if name then headers[name] = value end
end
local bust = os.getenv("WRK_BUST")
local i = 0
function setup(thread)
  thread:set("id", i)
  i = i + 1
end
function init(args)
  -- threads start at different requests so that a mix is interleaved from the first second
  position = id
  sent = 0
end
function request()
  position = position % #requests + 1
  local r = requests[position]
  local comment = ""
  if bust then
    sent = sent + 1
    comment = "%0A%23bust-" .. bust .. "-" .. id .. "-" .. sent
  end
  if r[1] == "POST" then
    local h = {}
    for k, v in pairs(headers) do h[k] = v end
    h["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", r[2], h, r[3] .. comment)
  end
  return wrk.format("GET", r[2] .. comment, headers)
end
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class LoadResult:
    connections: int
    seconds: float
    requests: int
    requests_per_second: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    errors: int               # non-2xx/3xx responses plus socket errors

    def as_dict(self) -> dict:
        return asdict(self)


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str, connections: int, seconds: float) -> LoadResult:
    percentiles = {p: _milliseconds(v) for p, v in
                   re.findall(r"^\s+(50|90|99)%\s+([0-9.]+(?:us|ms|s|m))\s*$", output, re.M)}
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                        output)
    errors = (int(non_2xx[1]) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return LoadResult(connections, seconds, int(total[1]) if total else 0,
                      float(rate[1]) if rate else 0.0, percentiles.get("50"),
                      percentiles.get("90"), percentiles.get("99"), errors)


def run_wrk(base_url: str, requests: list[str], *, connections: int, seconds: float,
            headers: dict[str, str] | None = None, bust: bool = False,
            timeout_s: int = 30) -> LoadResult:
    """Drive `requests` (see _SCRIPT) against `base_url` with `connections` connections."""
    with tempfile.TemporaryDirectory(prefix="parley-wrk-") as tmp:
        script, request_file, header_file = (Path(tmp) / n for n in ("load.lua", "requests",
                                                                      "headers"))
        script.write_text(_SCRIPT)
        request_file.write_text("\n".join(requests) + "\n")
        header_file.write_text("".join(f"{k}: {v}\n" for k, v in (headers or {}).items()))
        threads = min(connections, 2)
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
                   "--timeout", f"{timeout_s}s", "-s", str(script), base_url]
        env = dict(os.environ, WRK_REQUESTS=str(request_file), WRK_HEADERS=str(header_file))
        if bust:
            env["WRK_BUST"] = uuid.uuid4().hex
        done = subprocess.run(command, capture_output=True, text=True, env=env,
                              timeout=seconds + timeout_s + 30)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
        return parse_wrk(done.stdout, connections, seconds)
