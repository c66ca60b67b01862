"""Lexical guard: what a query is and whether it may run, decided before any parser sees it.

pyoxigraph's parser overflows the stack on deep nesting (killing the process) and its
engine follows SERVICE to any address, so these checks run on the raw text first. The
scanner mirrors the SPARQL grammar's terminals (strings, long strings, IRIs, comments,
prefixed names with escapes) so that nothing the parser reads as code hides from it, and
where the grammar itself is ambiguous to a lexer (`<` as IRI or less-than) it takes the
reading that shows more code, or refuses the query.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from parley.server.errors import MalformedQuery, ProtocolError, QueryRefused, ReadOnly

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_PN_LOCAL_ESC = r"\\[_~.\-!$&'()*+,;=/?#@%]"
_NAME = r"[^\W\d]|_"  # a letter or underscore, any script
# Whitespace and comments before a token are skipped inside the same match (atomically:
# a comment is never re-read as code); `end` matches what trails the last token.
_TOKENS = re.compile(
    rf"""
    (?>(?:[ \t\r\n]+|\#[^\r\n]*)*)
    (?:
    (?P<string>\"\"\"(?:(?:\"|\"\")?(?:[^\"\\]|\\.))*\"\"\"
             | '''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
             | \"(?:[^\"\\\r\n]|\\.)*\"
             | '(?:[^'\\\r\n]|\\.)*')
  | (?P<iri><(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)
  | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
  | (?P<bnode>_:[\w.\-\u00B7]*)
  | (?P<pname>(?:(?:{_NAME})[\w.\-\u00B7]*)?:(?:[\w.\-:\u00B7]|%[0-9A-Fa-f]{{2}}|{_PN_LOCAL_ESC})*)
  | (?P<word>[\w\u00B7]+)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?:--[A-Za-z]+)?)
  | (?P<punct><<|>>|<=|>=|!=|&&|\|\||\^\^|[{{}}()\[\],;.*/|^!=<>+\-~])
  | (?P<quote>[\"'])
  | (?P<end>\Z)
  | (?P<other>.)
    )
    """,
    re.VERBOSE | re.DOTALL,
)
_OPEN = {"{": "}", "(": ")", "[": "]", "<<": ">>"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_QUERY_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
# Tokens after which a `<` inside parentheses may be the less-than operator.
_OPERAND_END = {"var", "string", "iri", "pname", "word", "bnode", "langtag", ")", "]"}
# Inside an IRI that might really be `<` followed by code, these would open a string,
# comment or nesting that the IRI reading hides.
_HIDING = re.compile(r"['#()]|service", re.IGNORECASE)
_SERVICE = re.compile(r"service", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_UCHAR_ESCAPE = re.compile(_UCHAR)


@dataclass(frozen=True)
class QueryShape:
    """What the guard learnt about a query that may run."""

    form: str | None  # SELECT, ASK, CONSTRUCT, DESCRIBE; None when the parser must explain the error
    has_dataset: bool  # the query names its own dataset (FROM / FROM NAMED)
    services: tuple[str, ...]  # SERVICE IRIs, all in the allowlist
    # Some IRI may be relative (or a `<` operator looked like one): a remote backend needs
    # the endpoint as BASE to resolve it as the embedded store does.
    relative_iris: bool = False

    @property
    def returns_graph(self) -> bool:
        """Whether the answer is triples (CONSTRUCT, DESCRIBE) rather than solutions or a boolean."""
        return self.form in ("CONSTRUCT", "DESCRIBE")


def inspect_query(query: str, *, max_depth: int, service_allowlist: frozenset[str]) -> QueryShape:
    """Scan `query`; raise a ProtocolError if it must not reach the parser or the engine."""
    scan = _Scanner(query)
    prefixes: dict[str, str] = {}
    form: str | None = None
    has_dataset = False
    relative_iris = False
    services: list[str] = []
    stack: list[str] = []
    previous = ""
    tokens = scan.tokens()
    seen, pull = tokens.seen, tokens.pull
    index = -1
    # One pass over the tokens as they are lexed (lookahead helpers may lex a few ahead).
    while True:
        index += 1
        if index == len(seen) and not pull():
            break
        kind, text, position = seen[index]
        if kind == "punct":
            if text in _OPEN:
                stack.append(text)
                if len(stack) > max_depth:
                    raise QueryRefused(
                        f"query nests deeper than {max_depth} levels at {scan.where(position)}; "
                        "this endpoint does not evaluate queries nested that deeply"
                    )
            elif text in _CLOSE:
                if stack and stack[-1] == _CLOSE[text]:
                    stack.pop()
            previous = text
            continue
        if kind == "iri":
            relative_iris = relative_iris or not _SCHEME.match(_decode_iri(text))
            if stack and stack[-1] == "(" and previous in _OPERAND_END and _HIDING.search(text[1:-1]):
                raise QueryRefused(
                    f"ambiguous '<' at {scan.where(position)}: it reads both as an IRI and as the "
                    "less-than operator; put spaces around the operator"
                )
        elif kind == "word" or kind == "pname":
            upper = text.upper()
            if form is None:
                if upper in _QUERY_FORMS:
                    form = upper
                elif upper in _UPDATE_WORDS:
                    raise ReadOnly(f"{upper} at {scan.where(position)}")
                elif upper == "BASE":
                    _iri_text(tokens, index + 1, scan)
                elif upper == "PREFIX":
                    name, iri = _prefix_declaration(tokens, index + 1, scan)
                    prefixes[name] = iri
            if upper == "FROM":
                has_dataset = True
            # In a prefixed name only the prefix can be read as a keyword; `ex:service` is a name.
            if _SERVICE.search(text.partition(":")[0] if kind == "pname" else text):
                services.append(_service_iri(tokens, index, prefixes, scan, service_allowlist))
        previous = kind
    if form is None:
        words = [t for k, t, _ in tokens if k in ("word", "pname")]
        if any(w.upper() in _UPDATE_WORDS for w in words):
            raise ReadOnly()
        # Not a query the scanner recognises: the parser will say where and why.
    return QueryShape(form=form, has_dataset=has_dataset, services=tuple(services),
                      relative_iris=relative_iris)


class _Scanner:
    def __init__(self, text: str):
        self.text = text

    def tokens(self) -> "_Tokens":
        return _Tokens(self)

    def where(self, position: int) -> str:
        line = self.text.count("\n", 0, position) + 1
        column = position - (self.text.rfind("\n", 0, position) + 1) + 1
        return f"{line}:{column}"


class _Tokens:
    """Significant tokens, lexed on demand: a megabyte of brackets is refused at bracket 257."""

    def __init__(self, scan: _Scanner):
        self.scan = scan
        self.seen: list[tuple[str, str, int]] = []
        self._matches = _TOKENS.finditer(scan.text)
        self._ended = False

    def pull(self) -> bool:
        """Lex one more significant token into `seen`; False at the end of the text."""
        if self._ended:
            return False
        match = next(self._matches, None)  # `end` matches before the iterator stops
        kind = match.lastgroup if match is not None else "end"
        if kind == "end":
            self._ended = True
            return False
        if kind == "quote":
            raise MalformedQuery(f"unterminated string starting at {self.scan.where(match.start(kind))}")
        self.seen.append((kind, match.group(kind), match.start(kind)))
        return True

    def has(self, index: int) -> bool:
        while len(self.seen) <= index:
            if not self.pull():
                return False
        return True

    def __getitem__(self, index: int) -> tuple[str, str, int]:
        if not self.has(index):
            raise IndexError(index)
        return self.seen[index]

    def __iter__(self):
        index = 0
        while self.has(index):
            yield self.seen[index]
            index += 1


def _iri_text(tokens, index, scan) -> str:
    if tokens.has(index) and tokens[index][0] == "iri":
        return _decode_iri(tokens[index][1])
    raise MalformedQuery(f"expected an IRI in <...> at {scan.where(_position(tokens, index, scan))}")


def _prefix_declaration(tokens, index, scan) -> tuple[str, str]:
    if tokens.has(index) and tokens[index][0] == "pname" and tokens[index][1].endswith(":"):
        return tokens[index][1][:-1], _iri_text(tokens, index + 1, scan)
    raise MalformedQuery(f"expected a prefix name at {scan.where(_position(tokens, index, scan))}")


def _position(tokens, index, scan) -> int:
    return tokens[index][2] if tokens.has(index) else len(scan.text)


def _service_iri(tokens, index, prefixes, scan, allowlist) -> str:
    """The IRI a SERVICE keyword at tokens[index] calls; refuse it unless allowlisted.

    The parser matches keywords without a word boundary (`SERVICE:x`, `SERVICESILENT<x>`
    and `trueSERVICE <x>` all call out), so any code word containing "service" counts.
    """
    kind, text, position = tokens[index]
    rest = text[_SERVICE.search(text).end():]
    while True:
        if rest[:6].upper() == "SILENT":
            rest = rest[6:]
        if rest:
            target_kind, target = ("pname" if ":" in rest else "word"), rest
            break
        index += 1
        if not tokens.has(index):
            raise MalformedQuery(f"SERVICE at {scan.where(position)} names no endpoint")
        target_kind, target, _ = tokens[index]
        if target_kind == "word" and target.upper() == "SILENT":
            continue
        if target_kind == "word" and target.upper().startswith("SILENT"):
            rest = target
            continue
        break
    where = scan.where(position)
    if target_kind == "var":
        raise QueryRefused(f"SERVICE with a variable ({target}) at {where} is not allowed; name the endpoint IRI")
    if target_kind == "iri":
        iri = _decode_iri(target)
    elif target_kind == "pname":
        name, _, local = target.partition(":")
        if name not in prefixes:
            raise MalformedQuery(f"undeclared prefix '{name}:' at {where}")
        iri = prefixes[name] + re.sub(r"\\(.)", r"\1", local)
    else:
        raise QueryRefused(f"SERVICE at {where} must name an endpoint IRI")
    # The allowlist holds absolute IRIs only, so a relative SERVICE IRI (whatever BASE
    # would make of it) never matches and is refused.
    if iri not in allowlist:
        allowed = ", ".join(f"<{a}>" for a in sorted(allowlist)) or "no endpoint"
        raise QueryRefused(
            f"SERVICE <{iri}> at {where} is not allowed: this endpoint only federates with {allowed}"
        )
    return iri


def explain_syntax_error(query: str, message: str) -> str:
    """The parser's `message`, made readable where it is not.

    For a prefix no PREFIX declares, pyoxigraph lists every character it could have taken
    instead (hundreds of them); this names the prefix and says how to declare it.
    """
    if "Prefix not found" not in message:
        return message
    scan = _Scanner(query)
    tokens = scan.tokens()
    declared: set[str] = set()
    undeclared: tuple[str, int] | None = None
    index = 0
    try:
        # PREFIX declarations read as the guard reads them; the first name using another prefix.
        while tokens.has(index):
            kind, text, position = tokens[index]
            if kind in ("word", "pname") and text.upper() == "PREFIX":
                declared.add(_prefix_declaration(tokens, index + 1, scan)[0])
                index += 3  # PREFIX, its name, its IRI
                continue
            if kind == "pname" and text.partition(":")[0] not in declared:
                undeclared = (text, position)
                break
            index += 1
    except ProtocolError:  # an unterminated string or a broken declaration: name no prefix then
        pass
    if undeclared is None:
        return f"{message.split(' expected', 1)[0]} a prefix that no PREFIX declares"
    text, position = undeclared
    name = text.partition(":")[0]
    return (f"undeclared prefix '{name}:' in {text} at {scan.where(position)}; declare it before the "
            f"query form: PREFIX {name}: <...>")


def _decode_iri(token: str) -> str:
    if "\\" not in token:
        return token[1:-1]
    return _UCHAR_ESCAPE.sub(lambda m: chr(int(m.group()[2:], 16)), token[1:-1])


