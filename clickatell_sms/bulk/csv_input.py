"""Recipients from a CSV file, read as a stream, with every problem tied to its line number.

A campaign file can hold a million rows, so it is never loaded whole: rows are parsed one at a
time and handed to the bulk engine as they come. Problems are of two kinds:

* Problems with the file (it is not UTF-8, the header lacks the number column, the template
  names a column the header lacks) stop everything before a single message is sent:
  `CSVInputError`, with the line number. For a file on disk, the encoding is checked by a quick
  pass over the bytes first, so a bad byte on line 900,000 is found before line 1 is sent.
* Problems with one row (too few or too many fields, broken quoting, an empty number, an empty
  rendered message) make that row a `BadRow`: it is reported with its line, and the other rows
  still go. Numbers themselves are checked by the engine, which reports them the same way.

Templates (`"Hi {name}"`) are rendered by plain substitution of column values: only `{column}`
fields are allowed (no attribute or index access, no conversions or format specs), so a
template can never reach into Python objects, and `{{`/`}}` stand for literal braces.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import operator
import string
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from ._records import BadRow, Recipient

__all__ = ["CSVInputError", "CSVSource", "FileFacts", "Template", "scan_file"]

_SCAN_CHUNK: Final = 1 << 20


class CSVInputError(ValueError):
    """The input cannot be used at all; `line` is the 1-based line the problem was found on."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        where = f"{source}: line {line}: " if line is not None else f"{source}: "
        super().__init__(where + problem)


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What one quick pass over a file's bytes learnt: size, lines, and a hash of the content."""

    size: int
    lines: int
    sha256: str


class Template:
    """A message template with `{column}` fields, checked once and rendered by concatenation."""

    __slots__ = ("_pieces", "fields", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        pieces: list[tuple[str, str | None]] = []
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ValueError(f"template: {exc} (write {{{{ and }}}} for literal braces)") from None
        for literal, field, spec, conversion in parsed:
            if field is None:
                pieces.append((literal, None))
                continue
            if not field or field.isdigit():
                raise ValueError("template: fields need a column name, as in {name}")
            if any(char in field for char in ".[]"):
                raise ValueError(
                    f"template: {{{field}}} uses attribute or index access; name a column only"
                )
            if conversion or spec:
                raise ValueError(
                    f"template: {{{field}{'!' + conversion if conversion else ''}"
                    f"{':' + spec if spec else ''}}} has a conversion or format spec; only"
                    " plain {column} fields are allowed"
                )
            pieces.append((literal, field))
        self._pieces = tuple(pieces)
        self.fields = tuple(dict.fromkeys(f for _, f in pieces if f is not None))

    def render(self, values: dict[str, str]) -> str:
        """The text with each field replaced by its column's value (KeyError if one is absent)."""
        return "".join(
            literal if field is None else literal + values[field] for literal, field in self._pieces
        )

    def renderer(self, columns: Mapping[str, int]) -> Callable[[Sequence[str]], str]:
        """`render` for rows given as lists, the fields found at these positions: one
        `str.format` call per row (a million-row file spends a third as long here)."""
        pattern = "".join(
            literal.replace("{", "{{").replace("}", "}}") + ("" if field is None else "{}")
            for literal, field in self._pieces
        )
        positions = [columns[field] for _, field in self._pieces if field is not None]
        if not positions:
            return lambda values: pattern.format()
        take = operator.itemgetter(*positions)
        if len(positions) == 1:
            return lambda values: pattern.format(take(values))
        return lambda values: pattern.format(*take(values))


def scan_file(path: Path, encoding: str = "utf-8") -> FileFacts:
    """Check that the whole file decodes, count its lines and hash it, in one pass of the bytes.

    Raises `CSVInputError` with the line (and column) of the first byte that does not decode.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    digest = hashlib.sha256()
    lines = 0
    size = 0
    last = b""
    with path.open("rb") as file:
        while chunk := file.read(_SCAN_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _decode_error(path, encoding, exc, lines) from None
            digest.update(chunk)
            lines += chunk.count(b"\n")
            size += len(chunk)
            last = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise _decode_error(path, encoding, exc, lines) from None
    if size and last != b"\n":
        lines += 1
    return FileFacts(size, lines, digest.hexdigest())


def _decode_error(
    path: Path, encoding: str, exc: UnicodeDecodeError, lines_before: int
) -> CSVInputError:
    # The decoder's data is this chunk plus the few bytes of a character it held back from the
    # previous one, which contain no line break; so counting in its data gives the exact line.
    data = exc.object
    start = exc.start
    line = lines_before + data.count(b"\n", 0, start) + 1
    line_start = data.rfind(b"\n", 0, start) + 1
    bad = data[start : start + 1]
    return _not_decodable(str(path), line, start - line_start + 1, encoding, bad)


def _not_decodable(source: str, line: int, column: int, encoding: str, bad: bytes) -> CSVInputError:
    """The error for the first byte the encoding cannot decode, where it is, and what to do."""
    return CSVInputError(
        source,
        line,
        f"is not valid {encoding} (byte 0x{bad.hex()} at column {column});"
        " save the file as UTF-8, or name its encoding with --encoding (e.g. cp1252)",
    )


class CSVSource:
    """The rows of a CSV file as `Recipient`s (or `BadRow`s), streamed, in file order.

    `column` holds the numbers. Each row's message is the fixed `content` (left to the engine),
    the value of `content_column`, or `template` rendered with the row's columns; at most one
    of the last two. The header is read and checked on construction, so a missing column fails
    before anything is sent. `checked` says the caller has read the whole stream once and found
    that it decodes (`scan_file`): it is then decoded in large chunks rather than line by line
    (a million rows read a third faster), as no decoding error can need its line reported.
    """

    def __init__(
        self,
        stream: IO[bytes],
        *,
        name: str,
        column: str = "to",
        content_column: str | None = None,
        template: Template | None = None,
        encoding: str = "utf-8",
        delimiter: str = ",",
        checked: bool = False,
    ) -> None:
        if content_column is not None and template is not None:
            raise ValueError("give a content column or a template, not both")
        self.name = name
        utf8 = codecs.lookup(encoding).name == "utf-8"  # LookupError for an unknown encoding
        self._encoding = "utf-8-sig" if utf8 else encoding  # a byte-order mark is not data
        lines: Iterable[str] = (
            io.TextIOWrapper(stream, self._encoding, newline="")
            if checked
            else _LineDecoder(stream, self._encoding, name)
        )
        self._reader = csv.reader(lines, delimiter=delimiter, strict=True)
        self._template = template
        self._header = self._read_header()
        self._width = len(self._header)
        index = {name: i for i, name in reversed(list(enumerate(self._header)))}
        self._to = self._require(index, column, "--column")
        self._content = (
            None
            if content_column is None
            else self._require(index, content_column, "--content-column")
        )
        self._render: Callable[[Sequence[str]], str] = lambda values: ""
        if template is not None:
            missing = [field for field in template.fields if field not in index]
            if missing:
                raise CSVInputError(
                    name,
                    1,
                    f"the template uses {', '.join('{' + f + '}' for f in missing)}, but the"
                    f" header has no such column (columns: {', '.join(self._header)})",
                )
            self._render = template.renderer(index)

    @property
    def header(self) -> tuple[str, ...]:
        """The column names, as read from the first line."""
        return self._header

    def _read_header(self) -> tuple[str, ...]:
        try:
            for fields in self._reader:
                if fields:
                    return tuple(field.strip() for field in fields)
        except csv.Error as exc:
            raise CSVInputError(self.name, self._reader.line_num, f"not valid CSV: {exc}") from None
        raise CSVInputError(self.name, None, "is empty; the first line must be a header row")

    def _require(self, index: dict[str, int], column: str, option: str) -> int:
        found = index.get(column)
        if found is None:
            raise CSVInputError(
                self.name,
                1,
                f"the header has no column {column!r} (columns: {', '.join(self._header)});"
                f" choose one with {option}",
            )
        return found

    def __iter__(self) -> Iterator[Recipient | BadRow]:
        reader = self._reader
        width = self._width
        to_at = self._to
        content_at = self._content
        template = self._template
        render = self._render
        line = reader.line_num
        while True:
            start = line + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:  # `checked`, and the file has changed since
                raise CSVInputError(
                    self.name, start, f"is no longer valid {self._encoding}: it changed while read"
                ) from None
            except csv.Error as exc:
                line = reader.line_num
                span = f" (lines {start}-{line} were read as one row)" if line > start else ""
                yield BadRow("", f"is not valid CSV: {exc}{span}", start)
                continue
            line = reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # blank lines carry no recipient
            if len(values) != width:
                to = values[to_at] if to_at < len(values) else ""
                yield BadRow(
                    to,
                    f"has {len(values)} fields, the header has {width}"
                    " (an unquoted comma or a missing value?)",
                    start,
                )
                continue
            to = values[to_at]
            if not to.strip():
                yield BadRow(to, f"no number in column {self._header[to_at]!r}", start)
                continue
            if content_at is not None:
                content = values[content_at]
                if not content:
                    yield BadRow(to, f"no message in column {self._header[content_at]!r}", start)
                    continue
                yield Recipient(to, content, start)
            elif template is not None:
                content = render(values)
                if not content.strip():
                    yield BadRow(to, "the template renders an empty message for this row", start)
                    continue
                yield Recipient(to, content, start)
            else:
                yield Recipient(to, None, start)


class _LineDecoder:
    """Lines of a byte stream as text, decoded one line at a time so errors know their line."""

    __slots__ = ("_encoding", "_line", "_name", "_stream")

    def __init__(self, stream: IO[bytes], encoding: str, name: str) -> None:
        self._stream = stream
        self._encoding = encoding
        self._name = name
        self._line = 0

    def __iter__(self) -> Iterator[str]:
        encoding = self._encoding
        first = True
        for raw in self._stream:
            self._line += 1
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                encoding_name = self._encoding.removesuffix("-sig")
                bad = raw[exc.start : exc.start + 1]
                raise _not_decodable(
                    self._name, self._line, exc.start + 1, encoding_name, bad
                ) from None
            if first:
                first = False
                if encoding == "utf-8-sig":  # a BOM can only start the first line
                    encoding = "utf-8"
            yield text
