"""The server-drawn SVG charts: valid XML with a title, labels escaped, scaled with zero, one or
many points, and negative, huge or non-finite values drawn without breaking the chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from api.console.charts import MAX_POINTS, Scale, bar_chart, line_chart, nice_step, tick_label

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    title = root.find(SVG + "title")
    assert title is not None and title.text
    return root


def heights(root: ET.Element) -> list[float]:
    return [float(r.get("height", "0")) for r in root.iter(SVG + "rect") if r.find(SVG + "title") is not None]


@pytest.mark.parametrize("values", [[], [7], [3, 0, 12, 5], list(range(200))])
def test_bars_of_zero_one_or_many_points_are_valid_svg(values: list[int]) -> None:
    root = parsed(bar_chart("各镇已进城人数", [f"镇{i}" for i in range(len(values))], values, empty="无数据"))
    bars = heights(root)
    assert len(bars) == min(len(values), MAX_POINTS)
    if values:
        # The tallest bar is the largest value; a zero is drawn with no height.
        assert max(bars) == bars[values.index(max(values[:MAX_POINTS]))]
        assert min(bars) >= 0
    else:
        assert "无数据" in bar_chart("t", [], [], empty="无数据")


def test_labels_and_titles_are_escaped() -> None:
    hostile = '<script>alert("x")</script> & ]]>'
    svg = line_chart(
        hostile, [hostile, "b"], [(hostile, [1, 2])], unit=hostile, target=1, target_label=hostile
    )
    assert "<script>" not in svg
    root = parsed(svg)
    title = root.find(SVG + "title")
    assert title is not None and title.text == hostile
    svg = bar_chart(hostile, [hostile], [5], target=3, target_label=hostile)
    assert "<script>" not in svg and parsed(svg) is not None


def test_negative_and_huge_values_stay_inside_the_plot() -> None:
    root = parsed(bar_chart("t", ["a", "b", "c"], [-5_000, 10**15, 0]))
    ys = [float(r.get("y", "0")) for r in root.iter(SVG + "rect") if r.find(SVG + "title") is not None]
    assert all(0 <= y <= 240 for y in ys)
    assert all(0 <= h <= 240 for h in heights(root))
    assert "亿" in bar_chart("t", ["a"], [10**15])
    parsed(line_chart("t", ["a", "b"], [("s", [float("nan"), float("inf")])]))
    parsed(line_chart("t", ["only"], [("s", [-3])], target=10**18))


def test_the_scale_includes_zero_and_the_target_with_round_ticks() -> None:
    s = Scale.of([3, 47])
    assert s.low == 0 and s.high >= 47 and s.step == 10
    assert Scale.of([-12, 4]).low < -12 <= 0 < Scale.of([-12, 4]).high
    assert Scale.of([]).high > Scale.of([]).low
    assert Scale.of([5, 120]).high >= 120
    assert nice_step(0) == 1 and nice_step(float("inf")) == 1
    assert tick_label(12_000) == "1.2万" and tick_label(-800) == "-800" and tick_label(0.25) == "0.25"


def test_a_line_chart_draws_each_series_and_the_target() -> None:
    svg = line_chart(
        "面积", ["一月", "二月", "三月"], [("承包地", [1, 2, 3]), ("宅基地", [3, 2, 1])], target=4
    )
    root = parsed(svg)
    assert len(list(root.iter(SVG + "polyline"))) == 2
    assert len(list(root.iter(SVG + "circle"))) == 6
    assert any(line.get("stroke-dasharray") for line in root.iter(SVG + "line"))
    one = parsed(line_chart("t", ["a"], [("s", [1])]))
    assert not list(one.iter(SVG + "polyline")) and len(list(one.iter(SVG + "circle"))) == 1


def test_labels_under_the_axis_are_cut_to_the_room_between_them() -> None:
    names = [f"环翠区第{i}镇街道办事处" for i in range(8)]
    svg = ET.fromstring(str(bar_chart("各乡镇", names, [1] * 8, unit="m²")))
    shown = [
        t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text") if (t.text or "").startswith("环")
    ]
    assert len(shown) == 8 and all(s.endswith("…") for s in shown), shown
    room = (560 - 2 * 30) / 8  # about the plot's width over eight columns
    assert all(len(s) * 11 <= room for s in shown), shown
    few = ET.fromstring(str(bar_chart("各乡镇", ["甲镇", "乙镇"], [1, 2], unit="m²")))
    assert {"甲镇", "乙镇"} <= {t.text for t in few.iter("{http://www.w3.org/2000/svg}text")}
