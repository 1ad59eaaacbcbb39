"""``bench verify`` at a tiny size: one JSON object on standard output with every figure the
umbrella ``bench`` reads, each positive (no timing is asserted), verify's verdict intact; a
second run reuses the bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import bench_verify
from api.cli.bench_command import verify_result


def test_bench_verify_prints_its_figures_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_verify, "REFERENCE_SECONDS", 0.2)
    returned = bench_verify.run_verify_bench(600, tmp_path, as_json=True)
    figures = json.loads(capsys.readouterr().out)
    assert figures == returned
    assert figures["records"] == 600 and figures["status"] == "intact"
    for name in (
        "records_per_second",
        "seconds",
        "reference_per_second",
        "one_core_per_second",
        "ratio",
        "peak_rss_mb",
        "workers_peak_rss_mb",
        "export_per_second",
    ):
        assert figures[name] > 0, name
    assert figures["processes"] >= 1 and str(figures["processes"]) in figures["reference"]
    rate, rss = verify_result(figures).rows
    assert rate.value == figures["records_per_second"] and rss.value == figures["peak_rss_mb"]
    again = bench_verify.run_verify_bench(600, tmp_path)
    assert "export_per_second" not in again and again["state_digest"] == figures["state_digest"]
    assert "verify = " in capsys.readouterr().out
