"""Pictures of a phantom: files written, not blank, drawn to scale and oriented as in
clinical display."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

from ductogram.anatomy import generate_phantom
from ductogram.anatomy.figures import (
    _MillimetreLines,
    _projection,
    choose_system,
    draw_projection,
    phantom_figure,
    save_figures,
)
from ductogram.anatomy.lesions import Ellipsoid
from ductogram.core import ParameterError

SMALL = {"lobes": 10, "orifices": 5, "tdlus_per_lobe": 30}


@pytest.fixture(scope="module")
def phantom():
    """A small left breast with a papilloma and a cyst."""
    return generate_phantom({**SMALL, "lesions": [{"kind": "papilloma"}, {"kind": "cyst"}]}, seed=2)


@pytest.fixture(scope="module")
def right_phantom():
    """A small right breast without lesions."""
    return generate_phantom({**SMALL, "laterality": "R"}, seed=5)


@pytest.fixture(scope="module")
def saved(phantom, tmp_path_factory):
    out = tmp_path_factory.mktemp("figures") / "new"
    return save_figures(phantom, out), out


def _drawn(phantom, view="CC", size=(4.0, 6.0), dpi=100, **kwargs):
    fig = Figure(figsize=size, dpi=dpi)
    ax = fig.add_subplot()
    draw_projection(phantom, view, ax, **kwargs)
    fig.draw_without_rendering()
    return fig, ax


def _duct_lines(ax) -> _MillimetreLines:
    (lines,) = [c for c in ax.collections if isinstance(c, _MillimetreLines)]
    return lines


# ----------------------------------------------------------------------------- files


def test_files_written(saved, phantom):
    files, out = saved
    system = choose_system(phantom)
    assert [f.name for f in files] == ["phantom.png", f"system_{system:02d}_cc_ml.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted(f.name for f in files)
    for f in files:
        assert f.stat().st_size > 50_000


@pytest.mark.parametrize("index", [0, 1])
def test_images_not_blank(saved, index):
    files, _ = saved
    img = mpimg.imread(files[index])
    assert img.ndim == 3
    assert img.shape[0] > 500 and img.shape[1] > 500
    grey = img[..., :3].mean(axis=-1)
    assert grey.std() > 0.1
    # Contrast-filled ducts: some pixels near white on the dark galactogram.
    assert np.mean(grey > 0.9) > 0.001


def test_same_phantom_same_pictures(phantom, saved, tmp_path):
    files, _ = saved
    again = save_figures(phantom, tmp_path)
    assert [f.read_bytes() for f in again] == [f.read_bytes() for f in files]


def test_overview_has_four_panels(phantom):
    fig = phantom_figure(phantom)
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].endswith("CC") and titles[1].endswith("ML")
    assert "papilloma" in titles[2]


# ----------------------------------------------------------------------------- choices


def test_choose_system_prefers_a_lesion(phantom):
    assert choose_system(phantom) == min(les.system for les in phantom.lesions)


def test_choose_system_largest_without_lesion(right_phantom):
    counts = [t.n_branches for t in right_phantom.trees]
    assert choose_system(right_phantom) == int(np.argmax(counts))


# ----------------------------------------------------------------------------- geometry


def test_chest_wall_at_image_edge_and_nipple_side(phantom, right_phantom):
    _, ax = _drawn(phantom)
    x0, x1 = ax.get_xlim()
    assert x0 == 0.0 and x1 > x0  # left breast: chest wall left, nipple right
    _, ax = _drawn(right_phantom)
    x0, x1 = ax.get_xlim()
    assert x1 == 0.0 and x0 > x1  # right breast: mirrored


def test_lm_keeps_superior_up(phantom):
    _, ml = _drawn(phantom, "ML")
    _, lm = _drawn(phantom, "LM")
    assert ml.get_ylim()[0] < ml.get_ylim()[1]
    assert lm.get_ylim()[0] > lm.get_ylim()[1]


def test_one_segment_per_node(phantom):
    _, ax = _drawn(phantom, systems=[1, 3])
    n = phantom.trees[1].n_segments + phantom.trees[3].n_segments
    assert len(_duct_lines(ax).get_segments()) == n


def test_line_widths_follow_calibre(phantom):
    """Widths in points are the lumen diameter to scale: twice the figure, twice the
    width, and thick ducts stay proportionally thicker than thin ones."""
    widths = []
    for size in ((4.0, 6.0), (8.0, 12.0)):
        _, ax = _drawn(phantom, size=size, systems=0)
        lines = _duct_lines(ax)
        widths.append(np.asarray(lines.get_linewidths()))
        mm = lines._widths_mm
    big = widths[0] > 1.0
    assert big.any()
    np.testing.assert_allclose(widths[1][big], 2.0 * widths[0][big], rtol=1e-6)
    ratio = widths[1][big] / mm[big]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6)


def test_projected_sphere_is_a_circle(phantom):
    sphere = Ellipsoid([20.0, 5.0, -3.0], [2.0, 2.0, 2.0], np.eye(3))
    flat = _projection(phantom, "CC", compressed=False)
    _, w, h, _ = flat.ellipse(sphere)
    assert w == pytest.approx(4.0) and h == pytest.approx(4.0)
    comp = phantom.compression("CC")
    squeezed = _projection(phantom, "CC", compressed=True)
    centre, w, h, _ = squeezed.ellipse(sphere)
    # Compression stretches the image plane by s in both directions (compression.py, eq. 5).
    assert w == pytest.approx(4.0 * comp.stretch) and h == pytest.approx(4.0 * comp.stretch)
    np.testing.assert_allclose(centre, comp.to_compressed(sphere.centre_mm)[1:])


def test_uncompressed_view(phantom):
    _, ax = _drawn(phantom, "MLO", compressed=False, style="anatomy")
    assert ax.get_xlim()[0] == 0.0


# ----------------------------------------------------------------------------- errors


def test_bad_view(phantom):
    with pytest.raises(ParameterError, match=r"view = 'AP': expected one of 'CC'"):
        _drawn(phantom, "AP")


def test_bad_style(phantom):
    with pytest.raises(ParameterError, match=r"style = 'xray': expected 'galactogram'"):
        _drawn(phantom, style="xray")


def test_bad_system(phantom):
    with pytest.raises(ParameterError, match=r"system = 7: expected an orifice index in \[0, 4\]"):
        _drawn(phantom, systems=7)
    with pytest.raises(ParameterError, match=r"system = -1"):
        save_figures(phantom, "unused", system=-1)
