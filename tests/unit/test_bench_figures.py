"""The benchmarks' arithmetic: percentiles, ratios, ledger sizes, and ``bench verify``'s figures
read from its printed lines."""

from __future__ import annotations

import pytest

from api.cli.bench_command import figures_from_text, verify_result
from api.cli.bench_load import Load
from api.cli.bench_proofs import parse_sizes
from api.cli.bench_report import Row, ratio_text


def test_percentiles_are_nearest_rank() -> None:
    load = Load(100, 2.0, 1, [i / 1000 for i in range(1, 101)])
    assert load.percentile_ms(50) == pytest.approx(50.0)
    assert load.percentile_ms(99) == pytest.approx(99.0)
    assert load.percentile_ms(100) == pytest.approx(100.0)
    assert load.per_second == 50.0
    assert Load(1, 1.0, 1, [0.003]).percentile_ms(99) == pytest.approx(3.0)


def test_a_rate_ratio_is_a_share_and_a_latency_ratio_a_multiple() -> None:
    assert ratio_text(Row("a", "m", 50.0, "entries/s", "ref", 200.0)) == "25%"
    assert ratio_text(Row("p", "m", 3.0, "ms", "ref", 2.0)) == "1.50x"
    assert ratio_text(Row("p", "m", 3.0, "ms")) == ""


def test_sizes_take_suffixes() -> None:
    assert parse_sizes("10k,100k,1M") == (10_000, 100_000, 1_000_000)
    assert parse_sizes("20, 1_000") == (20, 1000)


def test_a_size_below_the_genesis_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 3 records"):
        parse_sizes("10k,2")


PRINTED = """rural-ledger bench verify: 1,000,000 records, bundle in /tmp/x/bundle
  ledger            1,000,000 records, 512 MB
  verify                10,154 records/s  (98.5 s wall, status intact, state digest 0123456789abcdef...)
  Ed25519 verify        21,500 signatures/s, one core   verify = 47.2% of it (target >= 60%)
  peak RSS               1,363 MB verifier, 1,400 MB largest process
"""


def test_verify_figures_are_read_from_its_printed_lines() -> None:
    figures = figures_from_text(PRINTED)
    assert figures["records"] == 1_000_000
    assert figures["records_per_second"] == 10_154
    assert figures["seconds"] == 98.5
    assert figures["reference_per_second"] == 21_500
    assert figures["peak_rss_mb"] == 1363
    assert figures["reference"] == "Ed25519 verify only, one core"
    rate, rss = verify_result(figures).rows
    assert rate.met is False and rate.ratio == pytest.approx(10_154 / 21_500)
    assert rss.met is False and rss.value == 1363
