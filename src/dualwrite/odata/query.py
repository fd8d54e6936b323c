"""System query options of a request and the Prefer header, parsed once.

Query strings decode `+` as a space (HTML form encoding, which clients use for `$filter`);
an option given twice or one this service does not know is an error, never ignored."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from dualwrite.odata.errors import SKIP_UNSUPPORTED, ODataError, bad_request

KNOWN = frozenset(
    {
        "$select",
        "$filter",
        "$orderby",
        "$top",
        "$skip",
        "$count",
        "$expand",
        "$skiptoken",
        "$deltatoken",
        "$format",
    }
)


@dataclass(frozen=True)
class Expand:
    navigation: str
    select: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Order:
    name: str
    descending: bool = False


@dataclass(frozen=True)
class QueryOptions:
    select: tuple[str, ...] | None = None
    filter: str | None = None
    orderby: tuple[Order, ...] = ()
    top: int | None = None
    skip: int | None = None
    count: bool = False
    expand: tuple[Expand, ...] = ()
    skiptoken: str | None = None
    deltatoken: str | None = None
    custom: dict[str, str] = field(default_factory=dict)  # cross-company and the like
    pairs: tuple[tuple[str, str], ...] = ()  # as given, in order

    def without(self, *names: str) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.pairs if k not in names]

    def encoded(self, *extra: tuple[str, str], drop: Iterable[str] = ()) -> str:
        """The query string again (for next and delta links), with `extra` options added."""
        kept = self.without("$skiptoken", "$deltatoken", "$skip", *drop)
        return urlencode([*kept, *extra], safe="$,()'=/:*@")

    def fingerprint(self) -> str:
        """What a skip token is bound to: the options that shape the result."""
        # $top and $skip shape only the first page: the token carries what is left of $top.
        ignored = ("$skiptoken", "$deltatoken", "$count", "$format", "$top", "$skip")
        return urlencode(sorted(self.without(*ignored)))


def _split(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        quoted = bool(quote)
        if ch in "'\"" and (not quote or ch == quote):
            quote = "" if quote else ch
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == sep:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _names(option: str, text: str) -> tuple[str, ...]:
    names = tuple(_split(text))
    for name in names:
        if not _NAME.match(name):
            raise bad_request(f"Syntax error in '{option}' at '{name}': expected a property name.")
    return names


MAX_COUNT = 2**31 - 1  # what a $top or $skip can ask for: an Int32, as OData's parsers read it


def _non_negative(option: str, text: str) -> int:
    if not text.isdigit() or int(text) > MAX_COUNT:
        raise bad_request(
            f"Invalid value '{text}' for {option} query option found. The {option} query "
            "option requires a non-negative integer value."
        )
    return int(text)


def _orderby(text: str) -> tuple[Order, ...]:
    out = []
    for item in _split(text):
        words = item.split()
        if not words or len(words) > 2 or not _NAME.match(words[0]):
            raise bad_request(f"Syntax error in '$orderby' at '{item}'.")
        if len(words) == 2 and words[1].lower() not in ("asc", "desc"):
            raise bad_request(f"Syntax error in '$orderby' at '{item}': expected asc or desc.")
        out.append(Order(words[0], len(words) == 2 and words[1].lower() == "desc"))
    return tuple(out)


_EXPAND = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?$", re.S)


def _expand(text: str) -> tuple[Expand, ...]:
    out = []
    for item in _split(text):
        match = _EXPAND.match(item)
        if not match:
            raise bad_request(f"Syntax error in '$expand' at '{item}'.")
        select = None
        for option in _split(match.group(2) or "", ";") if match.group(2) else []:
            key, _, value = option.partition("=")
            if key.strip() != "$select":
                raise bad_request(
                    f"The query option '{key.strip()}' inside $expand is not supported; "
                    "use $select."
                )
            select = _names("$select", value)
        out.append(Expand(match.group(1), select))
    return tuple(out)


def parse_query(query: str, *, skip_supported: bool) -> QueryOptions:
    """Parse a raw query string (as sent, percent-encoded)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    seen: dict[str, str] = {}
    custom: dict[str, str] = {}
    for key, value in pairs:
        if key in seen:
            raise bad_request(f"Query option '{key}' was specified more than once.")
        seen[key] = value
        if key.startswith("$") and key not in KNOWN:
            raise bad_request(f"The query parameter '{key}' is not supported.")
        if not key.startswith("$"):
            custom[key] = value
    if "$skip" in seen and not skip_supported:
        raise ODataError(400, "The query parameter $skip is not supported", SKIP_UNSUPPORTED)
    count = seen.get("$count", "false").lower()
    if count not in ("true", "false"):
        raise bad_request(f"'{seen['$count']}' is not a valid count option.")
    return QueryOptions(
        select=_names("$select", seen["$select"]) if seen.get("$select") else None,
        filter=seen.get("$filter") or None,
        orderby=_orderby(seen["$orderby"]) if seen.get("$orderby") else (),
        top=_non_negative("$top", seen["$top"]) if "$top" in seen else None,
        skip=_non_negative("$skip", seen["$skip"]) if "$skip" in seen else None,
        count=count == "true",
        expand=_expand(seen["$expand"]) if seen.get("$expand") else (),
        skiptoken=seen.get("$skiptoken") or None,
        deltatoken=seen.get("$deltatoken") or None,
        custom=custom,
        pairs=tuple(pairs),
    )


@dataclass(frozen=True)
class Preferences:
    max_page_size: int | None = None
    return_representation: bool = False
    annotations: str | None = None  # "*" or a pattern of annotation names
    track_changes: bool = False
    continue_on_error: bool = False

    def wants(self, annotation: str) -> bool:
        """Whether `annotation` (e.g. OData.Community.Display.V1.FormattedValue) was asked."""
        if self.annotations is None:
            return False
        for pattern in self.annotations.split(","):
            pattern = pattern.strip()
            if pattern == "*" or pattern == annotation:
                return True
            if pattern.endswith(".*") and annotation.startswith(pattern[:-1]):
                return True
        return False


def parse_prefer(headers: Iterable[str]) -> Preferences:
    """`Prefer` headers (one or many, comma-separated); values quoted or not."""
    values: dict[str, str] = {}
    for header in headers:
        for item in _split(header):
            key, _, value = item.partition("=")
            values[key.strip().lower()] = value.strip().strip('"')
    size = values.get("odata.maxpagesize")
    if size is not None and not size.isdigit():
        raise bad_request(f"The Prefer odata.maxpagesize value '{size}' is not a number.")
    return Preferences(
        max_page_size=int(size) if size is not None else None,
        return_representation=values.get("return") == "representation",
        annotations=values.get("odata.include-annotations"),
        track_changes="odata.track-changes" in values,
        continue_on_error="odata.continue-on-error" in values,
    )
