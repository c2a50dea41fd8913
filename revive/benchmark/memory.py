"""Memory of this process as /proc reports it (``revive bench`` and its anchors)."""

from __future__ import annotations

import resource
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB (VmRSS/VmHWM)."""
    found = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    except OSError:  # not Linux: the peak from getrusage
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak
    return round(found["VmRSS"], 1), round(found["VmHWM"], 1)


def memory_mb() -> dict[str, float]:
    """This process's resident (RSS), proportional (PSS: shared pages divided among the
    processes mapping them) and unique (USS: private) memory in MB, from smaps_rollup."""
    fields = {"Rss": 0, "Pss": 0, "Private_Clean": 0, "Private_Dirty": 0}
    try:
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in fields:
                fields[key] = int(value.split()[0])
    except OSError:
        return {}
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    return {
        "rss": round(fields["Rss"] / 1024, 1),
        "pss": round(fields["Pss"] / 1024, 1),
        "uss": round(uss / 1024, 1),
    }


def measured_together(ctx: Any, target: Callable[..., None], args: tuple, workers: int):
    """Start ``workers`` processes of ``target(*args, loaded, measure, out)`` — each loads its
    index and waits at ``loaded``, answers its demands and waits at ``measure``, puts its
    ``memory_mb()`` on ``out`` and waits at ``measure`` again — and read every process's memory
    while all of them are alive. Returns (their readings, this process's reading)."""
    loaded, measure, out = ctx.Barrier(workers + 1), ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, loaded, measure, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    loaded.wait()
    measure.wait()
    mine = memory_mb()
    rows = []
    while len(rows) < workers:
        try:
            rows.append(out.get(timeout=1))
        except Empty:
            dead = [p for p in procs if not p.is_alive()]
            if dead:
                raise RuntimeError(
                    f"{dead[0].name} ended (exit {dead[0].exitcode}) without an answer"
                ) from None
    measure.wait()  # nobody exits before everyone has measured
    for p in procs:
        p.join()
    return rows, mine


def sharing_row(rows: list[dict[str, float]], main: dict[str, float] | None = None) -> dict:
    """The report of processes sharing one index: each one's PSS/USS/RSS and the host's total
    PSS (``main``: the process that forked them, counted too)."""
    out: dict[str, Any] = {
        "workers": len(rows),
        "pss_mb": [r.get("pss") for r in rows],
        "uss_mb": [r.get("uss") for r in rows],
        "rss_mb": [r.get("rss") for r in rows],
    }
    total = sum(r.get("pss", 0) for r in rows)
    if main is not None:
        out["main_pss_mb"] = main.get("pss")
        total += main.get("pss", 0)
    out["host_pss_mb"] = round(total, 1)
    return out
