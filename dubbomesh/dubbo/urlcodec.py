"""The Java-parity text rules under :mod:`dubbomesh.dubbo.url`: escapes, URL grammar, params.

Why this module exists: ``url.py`` holds the values other modules use; this one holds the fiddly,
speed-sensitive string work (a registry lists thousands of names on every change, and the target
is 100,000 names per second on one core). Everything here returns plain tuples and dicts, raises
:class:`UrlError`, and keeps no state.

Java parity (``URLStrParser``, ``URLDecoder``, ``URLEncoder``): a name is percent-decoded ONCE,
split at the first ``?``, params at ``&`` and ``;``, key and value at the first ``=``; a bare key
means key=key, ``k=`` is empty, the last duplicate wins, ``default.X`` fills an absent ``X``; the
five keys of :data:`DOUBLE_DECODED_KEYS` are decoded a second time. User info ends at the LAST
``@``; the port follows the LAST ``:`` unless a ``%zone`` follows it; leading ``/`` are stripped
from the path. Where Java crashes on a port (``[::1]`` without a port, ``host:``) we are lenient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from operator import methodcaller
from urllib.parse import quote_plus, unquote_to_bytes

from dubbomesh.dubbo.frozen import quick_init

DOUBLE_DECODED_KEYS = frozenset({"rule", "mock", "refer", "export", "monitor"})
"""Parameters whose values Dubbo decodes a second time (they were encoded before insertion)."""

Body = tuple[str, str, str, str, int, str]
"""(protocol, username, password, host, port, path)"""


class UrlError(ValueError):
    """An input that is not a Dubbo URL Java would accept. The message says what is wrong.

    Callers report it for that one input (a znode, a CLI argument) and carry on.
    """


@quick_init
@dataclass(frozen=True, slots=True)
class DecodeWarning:
    """Something Java would tolerate (or silently skip) but an operator should know about."""

    code: str
    """Short stable code, e.g. ``lowercase-escape``, ``interface-mismatch``, ``unroutable-host``."""
    text: str
    """One human sentence with the specifics."""


W_LOWERCASE = DecodeWarning(
    "lowercase-escape",
    "lower-case %xx escapes: Java 2.7+/3.x only list children with upper-case %3A%2F%2F / %3F",
)
W_UTF8 = DecodeWarning("invalid-utf8", "escapes are not valid UTF-8; replaced by U+FFFD as Java")

_MALFORMED = re.compile(r"%(?![0-9A-Fa-f]{2})")
_LOWERCASE = re.compile(r"%(?:[a-f][0-9A-Fa-f]|[0-9A-F][a-f])")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# A '%' that does not start an upper-case escape (lower-case or malformed): not for the fast path.
_NOT_UPPER_ESCAPE = re.compile(r"%(?![0-9A-F]{2})")
# Escapes making up almost every real name, decoded with C-speed str.replace. Sound because every
# '%' is known to start a valid escape; %25 (which yields '%') is never among them.
_COMMON = (
    *(("%3A", ":"), ("%2F", "/"), ("%3F", "?"), ("%3D", "="), ("%26", "&"), ("%2C", ",")),
    *(("%5B", "["), ("%5D", "]"), ("%40", "@"), ("%2B", "+"), ("%24", "$")),
)
_SPLIT_EQ = methodcaller("split", "=", 1)
# Every upper-case escape, as the Latin-1 character of its byte, for short ASCII values decoded
# piece by piece (the bytes then go through UTF-8 when any is beyond ASCII).
_BYTE_ESCAPES = {f"{b:02X}": chr(b) for b in range(256)}


def decode_component(text: str) -> tuple[str, tuple[DecodeWarning, ...]]:
    """Java ``URLDecoder.decode(text, "UTF-8")``: ``+`` is a space, ``%XX`` are UTF-8 bytes.

    Raises :class:`UrlError` on a malformed escape; lower-case escapes and invalid UTF-8 are
    accepted with a warning (Java substitutes U+FFFD too).
    """
    if "%" not in text:
        return (text.replace("+", " ") if "+" in text else text), ()
    bad = _MALFORMED.search(text)
    if bad is not None:
        at = bad.start()
        raise UrlError(f"malformed escape {text[at : at + 3]!r} at index {at}")
    warnings: tuple[DecodeWarning, ...] = (W_LOWERCASE,) if _LOWERCASE.search(text) else ()
    return _decode_valid(text, warnings)


def _decode_valid(
    text: str, warnings: tuple[DecodeWarning, ...]
) -> tuple[str, tuple[DecodeWarning, ...]]:
    out = text.replace("+", " ") if "+" in text else text
    for escape, char in _COMMON:
        if escape in out:
            out = out.replace(escape, char)
    if "%" not in out:
        return out, warnings
    if out.count("%") == out.count("%25"):
        return out.replace("%25", "%"), warnings
    data = unquote_to_bytes(out.encode("utf-8", "surrogatepass"))
    try:
        return data.decode("utf-8"), warnings
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), (*warnings, W_UTF8)


def _decode_escapes(text: str, warnings: list[DecodeWarning]) -> str | None:
    """Decode an ASCII value whose escapes are all upper-case (as :func:`_decode_valid` would,
    adding ``invalid-utf8`` to ``warnings`` once); None for anything else."""
    if not text.isascii():
        return None
    if "+" in text:
        text = text.replace("+", " ")
    if text.count("%") < 4 or "\\" in text:  # a few escapes: a lookup each
        pieces = text.split("%")
        out = [pieces[0]]
        for piece in pieces[1:]:
            char = _BYTE_ESCAPES.get(piece[:2])
            if char is None:
                return None
            out += (char, piece[2:])
        decoded = "".join(out)
    else:  # runs of them (UTF-8 text): Python's escape codec, once every '%' is known good
        if _NOT_UPPER_ESCAPE.search(text) is not None:
            return None
        decoded = text.replace("%", "\\x").encode("ascii").decode("unicode_escape")
    if decoded.isascii():
        return decoded
    data = decoded.encode("latin-1")  # one character per byte, by construction
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if W_UTF8 not in warnings:
            warnings.append(W_UTF8)
        return data.decode("utf-8", "replace")


def encode_component(text: str) -> str:
    """Java ``URLEncoder.encode(text, "UTF-8")``: keeps ``A-Z a-z 0-9 . - * _``, space is ``+``,
    everything else ``%XX`` upper-case (unpaired surrogates become ``?`` as in Java)."""
    return quote_plus(text, safe="*", errors="replace").replace("~", "%7E")


def _parse_port(text: str, url: str) -> int:
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > 0x7FFFFFFF:
        raise UrlError(f"invalid port {text!r} in {url!r}")
    return int(text)


def parse_body(body: str, url: str) -> Body:
    """``[protocol "://"] [user[":"pass]"@"] [host[":"port]] ["/" path]`` of a decoded URL."""
    protocol, rest = "", body
    sep = body.find("://")
    if sep >= 0:
        protocol, rest = body[:sep], body[sep + 3 :]
    elif (sep := body.find(":/")) >= 0:  # Java's "file:/path" form
        protocol, rest = body[:sep], body[sep + 1 :]
    if sep == 0:
        raise UrlError(f"URL missing protocol: {url!r}")
    auth, slash, path = rest.partition("/")
    if slash and path.startswith("/"):
        path = path.lstrip("/")
    username = password = ""
    at = auth.rfind("@")
    if at >= 0:
        username, _, password = auth[:at].partition(":")
        auth = auth[at + 1 :]
    host, port = auth, 0
    if auth.startswith("["):
        close = auth.find("]")
        if close < 0:
            raise UrlError(f"unterminated '[' in host {auth!r}")
        host, tail = auth[: close + 1], auth[close + 1 :]
        if tail and tail[0] != ":":
            raise UrlError(f"unexpected {tail!r} after bracketed host {host!r}")
        port = _parse_port(tail[1:], url)
    else:
        colon = auth.rfind(":")
        if 0 <= colon < len(auth) - 1 and "%" not in auth[colon + 1 :]:
            host, port = auth[:colon], _parse_port(auth[colon + 1 :], url)
        elif colon == len(auth) - 1 and auth.count(":") == 1:  # "host:" (Java would crash)
            host = auth[:colon]
    return protocol, username, password, host, port, path


def split_params(query: str) -> dict[str, str]:
    """Java's key/value split of a decoded query (before ``default.`` and nested decoding)."""
    parts = (query.replace(";", "&") if ";" in query else query).split("&")
    try:  # the common case in one C-level pass: every part is "k=v" with a non-empty k
        params: dict[str, str] = dict(map(_SPLIT_EQ, parts))
        if "" not in params:
            return params
    except ValueError:
        pass
    params = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not key:  # Java skips leading '=' of a part
            if not sep or not (part := part.lstrip("=")):
                continue
            key, sep, value = part.partition("=")
        params[key] = value if sep else key
    return params


def finish_params(
    params: dict[str, str],
    has_default: bool,
    has_percent: bool,
    has_plus: bool,
    warnings: list[DecodeWarning],
    percent_keys: list[str] | None = None,
) -> dict[str, str]:
    """``default.X`` fill-in, second decoding of the nested keys, double-encoding warning.

    ``has_default``/``has_percent``/``has_plus``: the DECODED query contains ``default.`` / ``%``
    / ``+`` (when it has neither ``%`` nor ``+``, no value needs a second decoding).
    ``percent_keys``: the keys whose value holds a ``%``, when the caller already knows them
    (ignored with ``has_default``: a fill-in can add more).
    """
    if has_default:
        for key in [k for k in params if k.startswith("default.") and len(k) > 8]:
            params.setdefault(key[8:], params[key])
    for key in DOUBLE_DECODED_KEYS.intersection(params) if has_percent or has_plus else ():
        value = params[key]
        if "%" in value or "+" in value:
            try:
                params[key] = decode_component(value)[0]
            except UrlError as exc:
                warnings.append(DecodeWarning("malformed-nested", f"{key} kept as is: {exc}"))
    if has_percent:
        keys = params if percent_keys is None or has_default else percent_keys
        odd = sorted(
            k
            for k in keys
            if k not in DOUBLE_DECODED_KEYS and "%" in (v := params[k]) and _ESCAPE.search(v)
        )
        if odd:
            warnings.append(_encoded_value(", ".join(odd)))
    return params


@lru_cache(maxsize=256)
def _encoded_value(keys: str) -> DecodeWarning:
    """One shared warning per key list (a dubbo-go registry repeats the same few)."""
    text = f"{keys}: still URL-encoded after one decode (dubbo-go double encoding?)"
    return DecodeWarning("encoded-value", text + "; kept as Java reads it")


def parse_decoded(text: str, warnings: list[DecodeWarning]) -> tuple[Body, dict[str, str]]:
    """Parse a decoded URL string (not trimmed: node names are taken as they are); raise
    :class:`UrlError` where Java would."""
    if not text:
        raise UrlError("empty URL")
    body, _, query = text.partition("?")
    parsed = parse_body(body, text)
    if not query:
        return parsed, {}
    params = split_params(query)
    return parsed, finish_params(params, "default." in query, "%" in query, "+" in query, warnings)


CANONICAL_BODY = re.compile(
    r"([A-Za-z0-9]+)%3A%2F%2F(?:([A-Za-z0-9._-]+)|%5B([0-9A-Fa-f.]*(?:%3A[0-9A-Fa-f.]*)+)%5D)"
    r"(?:%3A([0-9]{1,5}))?%2F([A-Za-z0-9._*-]*)%3F(.*)",
    re.DOTALL,
)
"""The still-encoded ``proto://host[:port]/path?`` of nearly every real name, in one C call:
groups protocol, plain host (or None), the inside of a bracketed IPv6 host (still with ``%3A``;
or None), port (or None) and path, all free of other escapes, then the still-encoded query.
What it matches, :func:`parse_body` would read the same way; anything else takes
:func:`parse_node_fast`."""


def parse_node_fast(name: str, warnings: list[DecodeWarning]) -> tuple[Body, dict[str, str]] | None:
    """Parse a canonical Java/dubbo-go node name without decoding it as a whole, or return None
    (then the caller takes the general path, which gives the same result for canonical names).

    Splits on the encoded ``%3F``/``%26``/``%3D`` first and decodes only the pieces that need it.
    Equivalent because no literal delimiter exists and a '%' that is not a valid upper-case escape
    can never start a structural match, so it stays inside a piece, where it is caught.
    """
    q = name.find("%3F")
    if q < 0:
        return None
    body = name[:q]
    if "=" in body or "&" in body or "?" in body or ";" in body or "%3B" in body:
        return None
    body = body.replace("%3A", ":").replace("%2F", "/")
    if "%" in body or "+" in body:
        if _NOT_UPPER_ESCAPE.search(body) is not None:
            return None
        body, found = _decode_valid(body, ())
        warnings.extend(w for w in found if w not in warnings)
    params = parse_query_fast(name[q + 3 :], warnings)
    if params is None:
        return None
    try:
        return parse_body(body, body), params
    except UrlError:
        return None  # the general path reports it, with the whole URL in the message


def parse_query_fast(query: str, warnings: list[DecodeWarning]) -> dict[str, str] | None:
    """The params of a node name's still-encoded query (after its first ``%3F``), or None when
    the general path must read the whole name (a literal delimiter, a bare key, an odd escape).
    """
    # A literal '?' is plain text after the first one; '=', '&', ';' and '%3B' are delimiters.
    if "=" in query or "&" in query or ";" in query or "%3B" in query:
        return None
    query = query.replace("%2C", ",")  # the commas of "methods": cheaper than looking first
    parts = query.split("%26")
    params: dict[str, str] = {}
    for part in parts:  # the hottest loop: a plain loop beats dict(map(...))
        key, sep, value = part.partition("%3D")
        if not sep:  # a bare key or an empty part: Java's odd rules, the general path
            return None
        params[key] = value
    if "" in params:  # "=v": likewise
        return None
    # Every part has a '=', so every '%' beyond the n-1 '&' and n '=' is in a key or value (a
    # malformed or lower-case one included). None at all (the usual case): no value needs
    # decoding and none can hold a '%' or '+' for finish_params to look at.
    if "+" not in query and query.count("%") == 2 * len(parts) - 1:
        if "default." in query:
            finish_params(params, True, False, False, warnings)
        return params
    keys = "".join(params)
    if "%" in keys or "+" in keys:
        return None
    percent: list[str] = []  # keys whose decoded value holds a '%' (from a '%25')
    plus = False  # some decoded value holds a '+' (from a '%2B')
    for key, value in params.items():
        if "%" in value or "+" in value:
            decoded = _decode_escapes(value, warnings)
            if decoded is None:  # not ASCII, or an escape that is not upper-case
                if _NOT_UPPER_ESCAPE.search(value) is not None:
                    return None
                decoded, found = _decode_valid(value, ())
                if found and W_UTF8 not in warnings:
                    warnings.append(W_UTF8)
            params[key] = decoded
            if "%" in decoded:
                percent.append(key)
            if "+" in decoded:
                plus = True
    has_default = "default." in query
    if has_default or percent or plus:
        finish_params(params, has_default, bool(percent), plus, warnings, percent)
    return params
