"""Schemathesis against the served /openapi.json of a real `waitlist serve` process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server_process import serving

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)
EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def served(database_url: str, tmp_path: Path):
    with serving(database_url, tmp_path) as server:
        yield server.base, server.log


def test_fuzzing_every_operation_finds_no_server_error_and_no_response_off_the_spec(served):
    base, server_log = served
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert schemathesis, "schemathesis is installed with the dev extra"
    result = subprocess.run(
        [
            schemathesis,
            "run",
            f"{base}/openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            "20261125",
            "--generation-database",
            "none",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=server_log.parent,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "generated" in result.stdout
    # The middleware logs every unexpected error with this phrase before answering 500.
    assert "unhandled error" not in server_log.read_text()
