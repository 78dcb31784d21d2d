"""A small keep-alive HTTP/1.1 load generator for the benchmarks (127.0.0.1 only): closed loop over
N connections, or open loop at a fixed rate; per-request latency and status counts."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Protocol

import httpx


class RequestSource(Protocol):
    """What `load` needs: the next request's bytes for a host, and how many were taken so far."""

    n: int

    def next(self, host: str) -> bytes: ...


@dataclass
class Result:
    latencies: list[float]
    seconds: float
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> int:
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    await reader.readexactly(length)
    return status


async def load(ports: list[int], reqs: RequestSource, *, seconds: float, max_requests: int, connections: int,
               rate: float | None = None) -> Result:
    """Closed loop over `connections` keep-alive connections, or open loop at `rate` requests/s."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    deadline = start + seconds

    async def worker(k: int) -> None:
        port = ports[k % len(ports)]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline and len(latencies) < max_requests:
                if rate is not None:  # open loop: request i is due at start + i / rate
                    due = start + reqs.n / rate
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                t0 = time.perf_counter()
                status = await _one(reader, writer, reqs.next(f"127.0.0.1:{port}"))
                latencies.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(k) for k in range(connections)))
    return Result(latencies, time.perf_counter() - start, statuses)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Until the `scale-review` process on `port` answers /readyz 200; RuntimeError if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the receiver exited early ({proc.returncode})")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the receiver did not become ready within {timeout:g} s")
