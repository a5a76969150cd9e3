"""The pure half of the preset × CRF study, bench.measures.presets_match (the study itself is
`python -m bench presets`, not a test), and the report writer's section replacement."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest

from bench.harness.report import write_section
from bench.measures.presets import SCORE_GRAPH
from bench.measures.presets_match import (
    Point,
    Score,
    nearest,
    next_crf,
    parse_scores,
    size_at_target,
    table,
)


def _walk(model: dict[int, float], target: float) -> dict[int, float]:
    """Run next_crf against a model CRF → SSIM dB until it stops; what it measured."""
    seen: dict[int, float] = {}
    while (crf := next_crf(seen, target)) is not None:
        assert crf not in seen and 0 <= crf <= 51
        seen[crf] = model[crf]
        assert len(seen) < 12, f"no convergence: {seen}"
    return seen


@pytest.mark.parametrize("slope", [0.3, 0.6, 1.1])
@pytest.mark.parametrize("target", [18.2, 25.46, 31.0, 37.7])
def test_the_walk_finds_the_crf_nearest_the_target(slope: float, target: float) -> None:
    model = {crf: 40.0 - slope * crf for crf in range(52)}
    seen = _walk(model, target)
    truth = min(model, key=lambda c: abs(model[c] - target))
    points = [_point("p", crf, db) for crf, db in seen.items()]
    assert nearest(points, target).crf == truth


def test_an_exact_hit_stops_and_an_unreachable_target_stops_at_the_end() -> None:
    assert next_crf({21: 25.0}, 25.0) is None
    model = {crf: 40.0 - 0.6 * crf for crf in range(52)}
    assert max(_walk(model, 5.0)) == 51  # lower than CRF 51 reaches: ends there
    assert min(_walk(model, 45.0)) == 0  # better than CRF 0 gives


def test_a_tie_goes_to_the_smaller_file() -> None:
    small, big = _point("p", 22, 25.0, size=100), _point("p", 21, 26.0, size=200)
    assert nearest([big, small], 25.5) is small


@pytest.mark.ffmpeg
def test_scores_are_read_from_ffmpeg_s_own_summary(tmp_path: Path) -> None:
    src = "testsrc2=s=160x90:r=10:d=0.5"
    noisy = tmp_path / "noisy.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"{src},noise=alls=12",
                    "-c:v", "ffv1", str(noisy)], check=True)  # fmt: skip
    clean = tmp_path / "clean.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", src, "-c:v", "ffv1",
                    str(clean)], check=True)  # fmt: skip

    def score(a: Path, b: Path) -> Score:
        done = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(a), "-i", str(b),
                               "-lavfi", SCORE_GRAPH, "-f", "null", "-"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        return parse_scores(done.stderr)

    s = score(noisy, clean)
    assert 0.3 < s.ssim < 0.999 and 15 < s.psnr < 45
    assert s.ssim_db == pytest.approx(-10 * math.log10(1 - s.ssim), abs=0.01)
    same = score(clean, clean)
    assert same.ssim == 1.0 and same.ssim_db == math.inf == same.psnr
    with pytest.raises(ValueError, match="no SSIM/PSNR"):
        parse_scores("Output #0, null, to 'pipe:':\n")


def test_the_table_compares_with_the_reference() -> None:
    ref = _point("medium", 21, 25.0, size=1000, cpu=(4.0, 5.0, 6.0))
    fast = _point("veryfast", 19, 25.1, size=1200, cpu=(2.0, 2.5, 3.0))
    rows = table([fast, ref], ref, {"veryfast": 1100.0, "medium": None})
    assert rows[0].count("|") == rows[2].count("|") == 10
    assert "| veryfast | 19 |" in rows[2] and "2.5 (2.0–3.0) | 0.50× |" in rows[2]
    assert rows[2].endswith("| +20% | +10% |") and rows[3].endswith("| ±0% | – |")


def test_the_size_at_the_target_is_interpolated_between_the_bracketing_crfs() -> None:
    # size halves per 2 dB here, so exactly between 24 and 26 dB is the geometric mean
    points = [_point("p", c, db, size=s) for c, db, s in [(18, 28, 400), (19, 26, 800),
                                                          (20, 24, 1600)]]  # fmt: skip
    assert size_at_target(points, 25.0) == pytest.approx(math.sqrt(800 * 1600))
    assert size_at_target(points, 26.0) == pytest.approx(800)
    assert size_at_target(points, 30.0) is None and size_at_target(points, 20.0) is None


def test_a_section_is_replaced_in_place_or_appended(tmp_path: Path) -> None:
    path = tmp_path / "results.md"
    path.write_text("# Results\n\n## A\n\none\n\n## B\n\ntwo\n")
    write_section(path, "A", ["uno"])
    write_section(path, "C", ["tres"])
    write_section(path, "C", ["three"])
    assert path.read_text() == "# Results\n\n## A\n\nuno\n\n## B\n\ntwo\n\n## C\n\nthree\n"


def _point(
    preset: str, crf: int, db: float, size: int = 1000, cpu: tuple[float, ...] = (1.0,)
) -> Point:
    ssim = 1 - 10 ** (-db / 10)
    return Point(preset, crf, Score(ssim, db, 40.0), sorted(cpu)[len(cpu) // 2], size, cpu)
