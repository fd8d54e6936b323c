"""Warnings for values that may not fit where a map sends them: longer text, lost fractions.

Not errors: Microsoft's own maps send 255 characters of F&O e-mail into 100 of Dataverse, and
only a value that really is too long fails — that record goes to the map's error log at run
time while the others sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import MetaData

from dualwrite.maps.columns import family, has_fraction, is_whole, max_length
from dualwrite.maps.model import Direction, Solution, writes_dv, writes_fo


def fit_warnings(solutions: Solution | Iterable[Solution], fo: MetaData, dv: MetaData) -> list[str]:
    """Values that may not fit where they go: longer text, fractions into whole numbers.

    Not errors: only a value that really does not fit fails, and that record goes to the error
    log. Call after `validate`; maps it refused are skipped here.
    """
    group = [solutions] if isinstance(solutions, Solution) else list(solutions)
    found: list[str] = []
    for tmap in (m for s in group for m in s.maps):
        fo_table, dv_table = fo.tables.get(tmap.fo), dv.tables.get(tmap.dv)
        if fo_table is None or dv_table is None:
            continue
        pairs: list[tuple[str, str, Direction, str]] = [
            (fo_col, dv_col, "both", f"key '{fo_col}'") for fo_col, dv_col in tmap.key
        ]
        pairs += [(f.fo, f.dv, f.direction, f"field '{f.fo}'") for f in tmap.fields if not f.values]
        for fo_col, dv_col, direction, label in pairs:
            if fo_col not in fo_table.c or dv_col not in dv_table.c:
                continue
            place = " > ".join([tmap.source or "solution", tmap.name, label])
            ends = (("F&O", fo_table.c[fo_col]), ("Dataverse", dv_table.c[dv_col]))
            flows = [ends] if writes_dv(direction) else []
            flows += [ends[::-1]] if writes_fo(direction) else []
            for (src_side, src), (dst_side, dst) in flows:
                found += [f"{place}: {w}" for w in _fit(src_side, src, dst_side, dst)]
    return found


def _fit(src_side: str, src: Any, dst_side: str, dst: Any) -> list[str]:
    out = []
    src_len, dst_len = max_length(src), max_length(dst)
    if family(src) == family(dst) == "string" and dst_len is not None:
        if src_len is None:
            out.append(
                f"{src_side} '{src.name}' holds text of any length, {dst_side} '{dst.name}' "
                f"only {dst_len} characters; longer values go to the error log"
            )
        elif src_len > dst_len:
            out.append(
                f"{src_side} '{src.name}' holds up to {src_len} characters, {dst_side} "
                f"'{dst.name}' only {dst_len}; longer values go to the error log"
            )
    if family(src) == family(dst) == "number" and has_fraction(src) and is_whole(dst):
        out.append(
            f"{src_side} '{src.name}' has fractions, {dst_side} '{dst.name}' holds whole "
            "numbers only"
        )
    return out
