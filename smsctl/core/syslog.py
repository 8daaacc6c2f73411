"""A copy of each audit record for the system log, so that a central collector gathers the
records of every operator's and CI runner's smsctl (`[log] syslog`).

Sent as one datagram in the traditional BSD syslog form that syslog daemons and the systemd
journal (through /dev/log) all read: `<PRI>smsctl[PID]: {json}`. Best effort by design: the audit
file is the record that a send depends on; a system log that cannot be reached costs a warning,
never the command.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Any

FACILITIES = {
    "user": 1, "daemon": 3, "auth": 4, "local0": 16, "local1": 17, "local2": 18, "local3": 19,
    "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}  # fmt: skip
INFO = 6
MAX_DATAGRAM = 8192
TIMEOUT_SECONDS = 1.0


def parse_address(address: str) -> tuple[int, Any]:
    """`/dev/log`, `unix:PATH` or `udp:HOST:PORT` -> (address family, socket address)."""
    if address.startswith("udp:"):
        host, _, port = address[4:].rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"`{address}` is not udp:HOST:PORT")
        host = host.strip("[]")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return family, (host, int(port))
    path = address[5:] if address.startswith("unix:") else address
    if not path.startswith("/"):
        raise ValueError(f"`{address}` is neither a socket path, unix:PATH nor udp:HOST:PORT")
    return socket.AF_UNIX, path


def message(facility: str, record: dict[str, Any]) -> bytes:
    priority = FACILITIES.get(facility, FACILITIES["user"]) * 8 + INFO
    text = json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":"))
    data = f"<{priority}>smsctl[{os.getpid()}]: {text}".encode()
    return data[:MAX_DATAGRAM]


def send(address: str, facility: str, record: dict[str, Any]) -> None:
    try:
        family, target = parse_address(address)
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(TIMEOUT_SECONDS)
            sock.sendto(message(facility, record), target)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        sys.stderr.write(
            f"Warning: could not send the audit record to the system log ({address}): {reason}; "
            "it is in the audit log file.\n"
        )
