"""Reader for man pages (.1 to .9, .man, and gzipped .gz): the page as `man` shows it, rendered by groff.

Needs the `groff` program (Debian package groff-base); the page is rendered once at
index time, as plain UTF-8 text without bold or underline, unhyphenated, one line per
paragraph. Section headings (NAME, DESCRIPTION...) are paragraphs of their own, the
body keeps its relative indentation (option lists). Both man(7) and mdoc(7) pages are
read. groff runs in its safer mode with an empty environment, and a page that asks it
to read other files (`.so`, `.cf`, `.nx`...) is refused, so a page never pulls in
anything from the machine.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading

from qa.ingest.decoding import decode_text
from qa.ingest.files import DEFAULT_MAX_BYTES
from qa.ingest.reader import Extracted, UnreadableFile
from qa.ingest.registry import ReaderUnavailableError

__all__ = ["GROFF_TIMEOUT", "gzipped", "reader", "render"]

# Seconds groff may take for one page (a real page takes well under one); below the
# extraction worker's own 30-second deadline, so groff is stopped first.
GROFF_TIMEOUT = 20.0
# Most bytes of rendered text kept from one page; a looping page is stopped there.
_MAX_OUTPUT = 64 * 1024 * 1024
_GROFF_ARGS = (
    "-mandoc",  # man(7) or mdoc(7), whichever the page uses
    "-Tutf8",
    "-t",  # tables (tbl)
    "-k",  # input encoding via preconv; the page is handed over as UTF-8
    "-Kutf8",
    "-S",  # safer mode (the default, said explicitly)
    "-P-c",  # no escape sequences in the output
    "-P-b",
    "-P-u",
    "-rHY=0",  # no hyphenation: words stay whole for search
    "-rLL=1000n",  # one line per paragraph; lines are wrapped by whoever shows them
    "-rcR=1",  # one continuous page, no page breaks
)
_MAN_MACRO = re.compile(r"^[.'][ \t]*(TH|Dd|Dt)\b", re.MULTILINE)
_REQUESTS = r"so|cf|trf|nx|rd|pso|sy|pi|open|opena|cc|c2|ec|eo"
# Requests that read other files or run programs, directly or through an alias.
_UNSAFE = re.compile(
    rf"^[.'][ \t]*(?:(?:do[ \t]+)?(?:{_REQUESTS})\b|(?:als|rn)[ \t]+\S+[ \t]+(?:{_REQUESTS})\b"
    rf"|mso[ \t]+\S*/|\\\*)",
    re.MULTILINE,
)
_SO_LINK = re.compile(r"^[.'][ \t]*so[ \t]+(\S+)", re.MULTILINE)
_HEADER = re.compile(r"^\S+\(\S+\)\s.*\S+\(\S+\)$")
_FOOTER = re.compile(r"\S+\(\S+\)$")
_HEADING_INDENT = 3
_BLANKS = re.compile(r"\n{3,}")


def _groff() -> str:
    groff = shutil.which("groff")
    if groff is None:
        raise ReaderUnavailableError(
            "reading man pages needs the program groff, which is not installed; "
            "install it with `apt-get install groff-base` (Debian, Ubuntu) or your system's groff package"
        )
    return groff


def _run(groff: str, source: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="qa-man-") as tmp:
        page = os.path.join(tmp, "page")
        with open(page, "w", encoding="utf-8") as f:
            f.write(source)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
        command = [groff, *_GROFF_ARGS, page]
        timeout = shutil.which("timeout")
        if timeout is not None:
            # coreutils' timeout stops groff even if this process is killed first (the
            # extraction worker's deadline), so a looping page never outlives the scan.
            command = [timeout, "-s", "KILL", str(int(GROFF_TIMEOUT) + 1), *command]
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=tmp,
            env=env,
            start_new_session=True,  # groff runs troff and grotty: stop them all together
        )

        def stop() -> None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(GROFF_TIMEOUT, stop)
        timer.start()
        try:
            out = proc.stdout.read(_MAX_OUTPUT + 1) if proc.stdout is not None else b""
            if len(out) > _MAX_OUTPUT:
                stop()
            code = proc.wait()
        finally:
            timer.cancel()
    if len(out) > _MAX_OUTPUT:
        raise UnreadableFile(f"man page renders to more than {_MAX_OUTPUT:,} bytes; it may loop forever")
    if code < 0:
        raise UnreadableFile(f"groff did not finish within {GROFF_TIMEOUT:.0f} s; the page may loop forever")
    if code != 0 and not out.strip():
        raise UnreadableFile(f"groff could not render this man page (exit status {code})")
    return out


def _tidy(rendered: str) -> str:
    lines = [line.rstrip() for line in rendered.replace("\r", "").split("\n")]
    filled = [i for i, line in enumerate(lines) if line]
    if filled and _HEADER.match(lines[filled[0]].strip()):
        lines[filled[0]] = ""
    if len(filled) > 1 and _FOOTER.search(lines[filled[-1]]):
        lines[filled[-1]] = ""
    # groff puts section headings at column 0 and subsection headings at 3; the body is
    # indented more (7 for man(7), 5 for mdoc(7)) and is dedented by its least indentation.
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line]
    body = min((i for i in indents if i > _HEADING_INDENT), default=0)
    out: list[str] = []
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        if line and indent <= _HEADING_INDENT:
            # A section or subsection heading: a paragraph of its own.
            out.extend(["", line.strip(), ""])
        else:
            out.append(line[body:] if indent >= body else line.lstrip(" "))
    return _BLANKS.sub("\n\n", "\n".join(out)).strip("\n") + "\n"


def _title(text: str) -> str:
    m = re.search(r"^NAME\n\n(.+)", text, re.MULTILINE)
    if m:
        return " ".join(m.group(1).split())
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def render(source: str) -> str:
    """A man page's troff source -> its text as `man` shows it (see the module docstring).

    Raises:
        UnreadableFile: not a man page, a page that refers to other files, or groff failed.
        ReaderUnavailableError: groff is not installed.
    """
    if not _MAN_MACRO.search(source):
        link = _SO_LINK.search(source)
        if link:
            raise UnreadableFile(
                f"this man page only points to another one ({link.group(1)}); index that page instead"
            )
        raise UnreadableFile("not a man page (no .TH or .Dd line); rename it if it is another kind of text")
    unsafe = _UNSAFE.search(source)
    if unsafe:
        raise UnreadableFile(
            f"man page uses {unsafe.group(0).strip()!r}, which reads other files; "
            "qa renders only self-contained pages"
        )
    rendered = _run(_groff(), source).decode("utf-8", "replace")
    text = _tidy(rendered)
    if not text.strip():
        raise UnreadableFile("empty file (the man page renders to no text)")
    return text


def reader(data: bytes, notes: list[str]) -> Extracted:
    """A man page (troff source); the title is its NAME line ("ls - list directory contents")."""
    text = render(decode_text(data, notes))
    return Extracted(text, fmt="man", title=_title(text))


def gzipped(data: bytes, notes: list[str]) -> Extracted:
    """A gzipped man page (`ls.1.gz`, as /usr/share/man holds them); other .gz files are refused."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            source = f.read(DEFAULT_MAX_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise UnreadableFile(f"damaged gzip file ({exc})") from None
    if len(source) > DEFAULT_MAX_BYTES:
        raise UnreadableFile(f"gzip file unpacks to more than {DEFAULT_MAX_BYTES:,} bytes")
    try:
        return reader(source, notes)
    except UnreadableFile as exc:
        raise UnreadableFile(f"only gzipped man pages are read from .gz files: {exc}") from None
