"""A bounded, open-loop load generator for the API on loopback, and a uvicorn server in a subprocess to aim it at."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LoadResult:
    """What the load saw: every request's status (0 = transport error) and service latency (send to response)."""

    planned: int
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: Counter[str] = field(default_factory=Counter)  # transport errors and 5xx bodies, by kind
    by_route: dict[str, list[float]] = field(default_factory=dict)
    route_statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(1 for s in self.statuses if s == 0 or s >= 500) + (self.planned - len(self.statuses))

    def percentile_ms(self, q: float, route: str | None = None) -> float:
        xs = self.by_route.get(route, []) if route else self.latencies
        return float(np.percentile(np.array(xs) * 1000, q)) if xs else float("nan")

    def summary(self) -> str:
        return (f"{len(self.statuses)}/{self.planned} requests in {self.seconds:.1f} s "
                f"({len(self.statuses) / max(self.seconds, 1e-9):.1f}/s), failed {self.failed}, "
                f"statuses {dict(Counter(self.statuses))}, p50 {self.percentile_ms(50):.1f} ms, "
                f"p95 {self.percentile_ms(95):.1f} ms, p99 {self.percentile_ms(99):.1f} ms, "
                f"max {self.percentile_ms(100):.1f} ms")


async def _load(base: str, token: str, plan: Callable[[int], tuple[str, str]], rate: float, seconds: float,
                concurrency: int, stop: Callable[[], bool]) -> LoadResult:
    total = int(rate * seconds)
    result = LoadResult(planned=total)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=httpx.Timeout(30.0)) as client:

        async def one(i: int) -> None:
            route, url = plan(i)
            async with gate:
                sent = time.perf_counter()
                try:
                    response = await client.get(url)
                    status = response.status_code
                    if status >= 500:
                        result.errors[f"{status} {response.text[:80]}"] += 1
                except httpx.HTTPError as err:
                    status = 0
                    result.errors[err.__class__.__name__] += 1
                took = time.perf_counter() - sent
            result.statuses.append(status)
            result.latencies.append(took)
            result.by_route.setdefault(route, []).append(took)
            result.route_statuses[(route, status)] += 1

        t0 = time.perf_counter()
        tasks = []
        for i in range(total):  # open loop: request i falls due at t0 + i / rate, whatever the answers do
            if stop():
                result.planned = i
                break
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        if tasks:
            await asyncio.wait(tasks, timeout=60)
        result.seconds = time.perf_counter() - t0
    return result


def run_load(port: int, token: str, plan: Callable[[int], tuple[str, str]], *, rate: float, seconds: float,
             concurrency: int = 16, stop: Callable[[], bool] = lambda: False) -> LoadResult:
    """GET ``plan(i)`` (route label, URL) at ``rate`` per second for at most ``seconds`` (or until ``stop()``)."""
    return asyncio.run(_load(f"http://{HOST}:{port}", token, plan, rate, seconds, concurrency, stop))


@dataclass
class ApiServer:
    """``uvicorn api.app:app_from_env`` in a subprocess (one worker, access log off), its log kept in a file."""

    config: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ApiServer:
        env = {**os.environ, "MDH_CONFIG": str(self.config), "PYTHONPATH": str(ROOT)}
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:app_from_env", "--factory",
                                      "--host", HOST, "--port", str(self.port), "--no-access-log",
                                      "--log-level", "info"], cwd=ROOT, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"http://{HOST}:{self.port}/openapi.json", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("the API server did not become ready")

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self._log.close()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")
