"""The generated files are in step with their sources: pytake/types.py with
internal/api/openapi.json, pytake/_sync/ with pytake/_async/."""

from __future__ import annotations

import subprocess
import sys

from .conftest import OPENAPI, SDK


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=SDK, capture_output=True, text=True, check=False)


def test_types_match_the_openapi_document() -> None:
    r = run("scripts/generate_types.py", "--check", "--doc", str(OPENAPI))
    assert r.returncode == 0, r.stderr


def test_sync_client_matches_the_async_one() -> None:
    r = run("scripts/unasync.py", "--check")
    assert r.returncode == 0, r.stderr


def test_models_read_every_documented_response_schema() -> None:
    from pytake import types

    from .test_operations import SCHEMAS, example

    for name, schema in SCHEMAS.items():
        cls = getattr(types, name, None)
        if isinstance(cls, type) and issubclass(cls, types.Model):
            obj = getattr(cls, "from_dict")(example(schema))
            assert obj.to_dict() == example(schema), name
