"""Generate the sync client (pytake/_sync/) from the async one (pytake/_async/).

The async code is the source; the sync code is the same with the async
keywords removed and the Async names replaced, as httpcore does it. Run from
infra/sdk/python:

    python scripts/unasync.py            # rewrite pytake/_sync/*.py
    python scripts/unasync.py --check    # exit 1 when they are stale
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "pytake"
FILES = ["__init__.py", "client.py", "resources.py"]

SUBS = [
    (re.compile(r"\basync def\b"), "def"),
    (re.compile(r"\bawait "), ""),
    (re.compile(r"\basync for\b"), "for"),
    (re.compile(r"\basync with\b"), "with"),
    (re.compile(r"\bimport asyncio\b"), "import time"),
    (re.compile(r"\basyncio\.sleep\b"), "time.sleep"),
    (re.compile(r"\.aclose\(\)"), ".close()"),
    (re.compile(r"__aenter__"), "__enter__"),
    (re.compile(r"__aexit__"), "__exit__"),
    (re.compile(r"\bAsync([A-Z]\w*)"), r"\1"),
]


def convert(src: str, name: str) -> str:
    # The module docstring: say where the file comes from.
    m = re.match(r'"""(.*?)"""', src, re.S)
    if m:
        first = " ".join(m.group(1).split()).split(". ")[0].rstrip(".") + "."
        first = first.replace("The async client", "The sync client")
        src = (
            f'"""{first}\n\nGenerated from pytake/_async/{name} by scripts/unasync.py: do not edit."""'
            + src[m.end():]
        )
    for pattern, repl in SUBS:
        src = pattern.sub(repl, src)
    return src


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    stale = []
    for name in FILES:
        out = convert((PKG / "_async" / name).read_text(encoding="utf-8"), name)
        target = PKG / "_sync" / name
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != out:
                stale.append(str(target))
        else:
            target.write_text(out, encoding="utf-8")
    if stale:
        print("stale (run python scripts/unasync.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
