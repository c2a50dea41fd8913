"""Memory of this process as /proc reports it (``revive bench`` and its anchors)."""

from __future__ import annotations

import resource
from pathlib import Path


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
