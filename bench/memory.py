"""Resident memory of a process tree, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _field_kb(path: Path, name: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory_mb(root: int | None = None,
                   exclude: set[int] | frozenset[int] = frozenset()) -> tuple[float, float]:
    """(RSS, PSS) of `root` (default: this process) and its descendants, in MB, leaving out
    the subtrees rooted at `exclude` (e.g. the site under test, also a child of ours).

    RSS counts pages shared between processes once per process, so for a multi-process
    browser it overstates what the machine spends; PSS splits shared pages between them."""
    tree = _children()
    todo = [os.getpid() if root is None else root]
    rss = pss = 0
    while todo:
        pid = todo.pop()
        if pid in exclude:
            continue
        rss += _field_kb(PROC / str(pid) / "status", "VmRSS:")
        pss += _field_kb(PROC / str(pid) / "smaps_rollup", "Pss:")
        todo.extend(tree.get(pid, []))
    return round(rss / 1024.0, 1), round(pss / 1024.0, 1)
