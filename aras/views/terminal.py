"""Tables and Markdown on the terminal, never cutting a cell.

Rich shrinks the columns of a table that does not fit the console and cuts their cells
with "…", numbers included. Here a table is laid out for the width it gets instead:

1. every column as wide as its longest cell, headers on one line;
2. headers folded at their spaces ("APU rows" over two lines);
3. the columns split into groups printed one under the other, each group repeating the
   table's key columns (the network, the step), so every row is still identified;
4. when not even one column fits beside the keys: one block per row, ``header: value``.

Cells are never cut or folded. Output that is not a terminal (a pipe, a file) is plain text,
one line per row at whatever width it needs, with no box characters or colours: a pipe has
no width to fit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import IO, Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: A column: (header, "l" or "r").
Column = tuple[str, str]

_SEP = 3  # Rich's SIMPLE_HEAD box without edges: one space of padding, a space, one more


def _plain(cell: str | Text) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _text(cell: str | Text) -> Text:
    """A cell as Text: a string is never read as Rich markup (a layer named "a[0]")."""
    return cell if isinstance(cell, Text) else Text(cell)


def _fold(header: str, width: int) -> str:
    """A header wrapped at its spaces to lines of at most ``width`` (longer words alone)."""
    lines: list[str] = []
    for word in header.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines) or header


def _stream(console: Console) -> IO[str]:
    return console.file


def plain_table(title: str | None, columns: Sequence[Column],
                rows: Sequence[Sequence[str | Text]], header: bool = True) -> str:
    """The table as plain text: aligned columns two spaces apart, a dashed line under the
    header, every cell complete."""
    cells = [[_plain(c) for c in r] for r in rows]
    widths = [max([len(h) if header else 0] + [len(r[k]) for r in cells])
              for k, (h, _) in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        parts = [v.ljust(w) if just == "l" else v.rjust(w)
                 for v, w, (_, just) in zip(values, widths, columns, strict=True)]
        return "  ".join(parts).rstrip()

    out = [title] if title else []
    if header:
        out += [line([h for h, _ in columns]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def layout(columns: Sequence[Column], rows: Sequence[Sequence[str | Text]], width: int,
           keys: int = 1, header: bool = True, wrap: Sequence[int] = ()
           ) -> list[tuple[list[int], list[str]]] | None:
    """Column groups for a table of at most ``width`` characters.

    Returns the groups, each its column indices (the key columns first) and their headers
    (folded at spaces only in a group that needs it), or None when not even the key columns
    and one other fit (then the table is printed as one block per row). Columns in ``wrap``
    (prose) count as wide as their longest word, or 20 characters, when that is what fits.
    """
    n = len(columns)
    keys = max(0, min(keys, n - 1))
    cell_w = [max([1] + [len(_plain(r[k])) for r in rows]) for k in range(n)]
    prose = [min(c, max([20] + [len(x) for r in rows for x in _plain(r[k]).split()]))
             for k, c in enumerate(cell_w)]
    heads = [h for h, _ in columns] if header else [""] * n
    full = [max(c, len(h)) for c, h in zip(cell_w, heads, strict=True)]
    folded = [max([prose[k] if k in wrap else c] + [len(x) for x in h.split()])
              for k, (c, h) in enumerate(zip(cell_w, heads, strict=True))]

    def total(ix: Sequence[int], w: Sequence[int]) -> int:
        return sum(w[k] for k in ix) + _SEP * (len(ix) - 1)

    key_ix = list(range(keys))
    groups: list[list[int]] = []
    cur: list[int] = []
    for k in range(keys, n):
        if total(key_ix + cur + [k], folded) <= width:
            cur.append(k)
            continue
        if not cur or total(key_ix + [k], folded) > width:
            return None
        groups.append(key_ix + cur)
        cur = [k]
    groups.append(key_ix + cur)
    return [(ix, [heads[k] if total(ix, full) <= width else _fold(heads[k], folded[k])
                  for k in ix]) for ix in groups]


def print_table(console: Console, title: str | None, columns: Sequence[Column],
                rows: Sequence[Sequence[str | Text]], *, keys: int = 1,
                header: bool = True, wrap: Sequence[int] = ()) -> None:
    """Print a table that fits the console without cutting a cell (see the module doc).

    ``keys`` leading columns identify a row and are repeated in every column group;
    ``header=False`` for tables of label and value; columns in ``wrap`` hold prose, which
    may wrap at its spaces on a narrow terminal.
    """
    if not console.is_terminal:
        print(plain_table(title, columns, rows, header), file=_stream(console))
        return
    width = console.width
    lay = layout(columns, rows, width, keys, header, wrap)
    if lay is None:
        if title:
            console.print(Text(title, style="italic"))
        for r in rows:
            if header:
                head = " ".join(_plain(c) for c in r[:max(1, keys)])
                console.print(Text(head, style="bold"))
                for (h, _), c in list(zip(columns, r, strict=True))[max(1, keys):]:
                    console.print(Text.assemble(f"  {h}: ", c))
            else:
                console.print(Text.assemble(r[0], ": ", *r[1:]))
        return
    for g, (ix, heads) in enumerate(lay):
        t = Table(title=title if g == 0 else None, box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, show_header=header)
        for k, head in zip(ix, heads, strict=True):
            w = max([1] + [len(_plain(r[k])) for r in rows] + [len(x) for x in head.split("\n")])
            t.add_column(Text(head), justify="left" if columns[k][1] == "l" else "right",
                         no_wrap=k not in wrap, width=None if k in wrap else w,
                         style="bold" if not header and k == 0 else None)
        for r in rows:
            t.add_row(*[_text(r[k]) for k in ix])
        if g:
            console.print()
        console.print(t)


def say(console: Console, text: str) -> None:
    """A line of prose: plain and unwrapped outside a terminal, word-wrapped on it."""
    if console.is_terminal:
        console.print(text, markup=False, highlight=False)
    else:
        print(text, file=_stream(console))


_NUMBER = re.compile(r"^\**[-+]?\d")


def _split_row(line: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` is a literal bar)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def _cell(text: str) -> str | Text:
    if len(text) > 4 and text.startswith("**") and text.endswith("**"):
        return Text(text[2:-2], style="bold")
    return text


def print_markdown(console: Console, text: str) -> None:
    """Print a Markdown report: verbatim outside a terminal, its tables as fitted tables on
    one (headings bold, other lines as prose).

    The key columns of a Markdown table are its leading columns of text (up to two: network
    and hardware, network and configuration); numeric columns are right-aligned; text columns
    of long sentences (error messages) wrap at their spaces.
    """
    if not console.is_terminal:
        _stream(console).write(text if text.endswith("\n") else text + "\n")
        return
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("|") and i + 1 < len(lines) \
                and re.fullmatch(r"\s*\|?(\s*:?-+:?\s*\|)+\s*:?-*:?\s*", lines[i + 1]):
            head = _split_row(line)
            body: list[list[str]] = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                cells = _split_row(lines[i])
                body.append((cells + [""] * len(head))[:len(head)])
                i += 1
            numeric = [any(_NUMBER.match(r[k]) for r in body) and all(
                _NUMBER.match(r[k]) or r[k] in ("", "-") for r in body)
                for k in range(len(head))]
            keys = 0
            while keys < min(2, len(head) - 1) and not numeric[keys]:
                keys += 1
            prose = [k for k in range(len(head)) if not numeric[k]
                     and max(len(r[k]) for r in body) > 30 and any(" " in r[k] for r in body)]
            print_table(console, None, [(h, "r" if num else "l")
                                        for h, num in zip(head, numeric, strict=True)],
                        [[_cell(c) for c in r] for r in body], keys=max(1, keys), wrap=prose)
            continue
        if line.startswith("#"):
            console.print(Text(line.lstrip("#").strip(), style="bold"))
        else:
            console.print(line, markup=False, highlight=False)
        i += 1


class SolveProgress:
    """A live line on a terminal while a solve runs: elapsed time and, for the MILP methods,
    window i/n, sweep, incumbent, certified bound and gap (the ``progress`` callback of
    :func:`aras.methods.solve.solve`).

    Nothing is shown when ``enabled`` is False or the console is not a terminal (a log file
    gets no spinner frames); the line disappears when the solve ends.
    """

    def __init__(self, console: Console, method: str, ms: Callable[[float], float], *,
                 enabled: bool = True):
        self.console, self.method, self.ms = console, method, ms
        self.enabled = enabled and console.is_terminal
        self._progress: Any = None
        self._task: Any = None
        self._file: Any = None

    def __enter__(self) -> SolveProgress:
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            # Pin the console to the stream it writes to now: a console without a file looks
            # sys.stderr up at every write, and while HiGHS runs, pyomo swaps sys.stderr for a
            # tee stream that it closes afterwards, so the refresh thread could write the line
            # into the solver's captured output, or into a closed stream and die.
            self._file = getattr(self.console, "_file", None)
            self.console.file = self.console.file
            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                      TimeElapsedColumn(), console=self.console,
                                      transient=True)
            self._progress.start()
            what = ("bounds, start heuristics, model" if self.method.startswith("milp")
                    else "bounds, schedule")
            self._task = self._progress.add_task(f"{self.method}: {what}", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self.console.file = self._file

    def describe(self, d: dict[str, Any]) -> str:
        """The line for one progress report."""
        inc, bound = d.get("incumbent_cycles"), d.get("bound_cycles")
        if d.get("window"):
            where = f"window {d['window']}/{d['windows']} (sweep {d['sweep']})"
        else:
            where = f"start ({d.get('windows', 0)} windows a sweep)"
        parts = [f"{self.method} {where}:"]
        if inc is not None:
            parts.append(f"incumbent {self.ms(inc):.3f} ms")
        if bound:
            parts.append(f"bound {self.ms(bound):.3f} ms")
            if inc is not None:
                parts.append(f"gap {100 * (inc / bound - 1):.1f}%")
        return parts[0] + " " + ", ".join(parts[1:]) if len(parts) > 1 else parts[0]

    def update(self, d: dict[str, Any]) -> None:
        """The ``progress`` callback."""
        if self._progress is not None:
            self._progress.update(self._task, description=self.describe(d), refresh=True)


__all__ = ["SolveProgress", "print_table", "print_markdown", "plain_table", "layout", "say",
           "Column"]
