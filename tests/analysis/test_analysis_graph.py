"""The duct tree read from masks of known topology, lengths and widths."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from skimage.draw import line

from ductogram.analysis.graph import build_tree
from ductogram.core import ParameterError


def paint_tube(mask: np.ndarray, a, b, diameter_px: float) -> None:
    """Set the pixels whose centre lies within diameter/2 of the segment a-b (row, col)."""
    r, c = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]].astype(float)
    a = np.asarray(a, float)
    v = np.asarray(b, float) - a
    t = np.clip(((r - a[0]) * v[0] + (c - a[1]) * v[1]) / (v @ v), 0.0, 1.0)
    mask |= np.hypot(r - a[0] - t * v[0], c - a[1] - t * v[1]) <= diameter_px / 2


def binary_tree(depth=3, root=(10.3, 200.4), length=120.0, width=12.0, shape=(400, 400)):
    """A symmetric binary tree of tubes: each child 0.7 times as long and as wide."""
    mask = np.zeros(shape, bool)
    segments = []

    def grow(p, angle, length, width, gen):
        q = (p[0] + length * np.cos(angle), p[1] + length * np.sin(angle))
        paint_tube(mask, p, q, width)
        segments.append((p, q, width, gen))
        if gen < depth:
            grow(q, angle - 0.6, 0.7 * length, 0.7 * width, gen + 1)
            grow(q, angle + 0.6, 0.7 * length, 0.7 * width, gen + 1)

    grow(root, 0.0, length, width, 1)
    return mask, segments


@pytest.fixture(scope="module")
def tree3():
    mask, segments = binary_tree()
    return build_tree(mask, (10.3, 200.4), pixel_mm=0.1), segments


def test_y_counts_and_generations():
    m = np.zeros((80, 80), bool)
    for r0, c0, r1, c1 in [(5, 40, 45, 40), (45, 40, 70, 15), (45, 40, 70, 65)]:
        m[line(r0, c0, r1, c1)] = True
    t = build_tree(m, (5, 40), pixel_mm=0.1)
    assert (t.n_segments, len(t.branch_points), len(t.end_points)) == (3, 1, 2)
    assert t.generation.tolist() == [1, 2, 2]
    assert t.parent.tolist() == [-1, 0, 0]
    np.testing.assert_allclose(t.node_rc[t.branch_points[0]], [45, 40], atol=1.5)
    # Stem: 40 px = 4 mm.
    assert t.length_mm[0] == pytest.approx(4.0, abs=0.2)


def test_binary_tree_topology(tree3):
    t, _ = tree3
    assert t.n_segments == 7
    assert len(t.branch_points) == 3
    assert len(t.end_points) == 4
    assert t.generation.tolist() == [1, 2, 2, 3, 3, 3, 3]
    assert t.strahler_order.tolist() == [3, 2, 2, 1, 1, 1, 1]
    # Each order-k branch splits into two order-(k-1) branches.
    assert t.ramification_counts.tolist() == [[0, 0, 0], [0, 2, 0], [0, 0, 1]]
    assert nx.is_arborescence(t.to_networkx())


def test_binary_tree_lengths_and_calibres(tree3):
    t, segments = tree3
    by_gen = {g: (np.hypot(q[0] - p[0], q[1] - p[1]) * 0.1, w * 0.1) for p, q, w, g in segments}
    for s in range(t.n_segments):
        length, width = by_gen[int(t.generation[s])]
        # Skeleton ends stop short of a round tube end by a fraction of its radius.
        assert t.length_mm[s] == pytest.approx(length, abs=0.1 + 0.5 * width)
        # A tube along a pixel axis is an integer number of pixels wide: within a pixel.
        assert t.calibre_mm[s] == pytest.approx(width, abs=0.1)
    assert t.calibre_mm[0] == pytest.approx(1.2, rel=0.05)
    np.testing.assert_allclose(t.tortuosity, 1.0, atol=0.02)


@pytest.mark.parametrize("diameter_px", [2.0, 3.0, 5.0, 8.0])
@pytest.mark.parametrize("angle", [0.0, 0.4, 0.785, 1.2])
def test_calibre_of_thin_tubes(diameter_px, angle):
    """Area over skeleton length: unbiased to a tenth of a pixel at any angle; twice the
    distance transform would be off by up to a pixel."""
    m = np.zeros((160, 160), bool)
    a = np.array([20.37, 20.61])
    b = a + 110 * np.array([np.sin(angle), np.cos(angle)])
    paint_tube(m, a, b, diameter_px)
    t = build_tree(m, tuple(a), pixel_mm=0.1)
    assert t.n_segments == 1
    assert t.calibre_mm[0] == pytest.approx(diameter_px * 0.1, abs=0.025)


def test_spacing_and_magnification_scale_sizes(tree3):
    t, _ = tree3
    mask, _ = binary_tree()
    t2 = build_tree(mask, (10.3, 200.4), pixel_mm=0.2)
    tm = build_tree(mask, (10.3, 200.4), pixel_mm=0.1, magnification=2.0)
    np.testing.assert_allclose(t2.length_mm, 2 * t.length_mm)
    np.testing.assert_allclose(t2.calibre_mm, 2 * t.calibre_mm)
    np.testing.assert_allclose(tm.length_mm, t.length_mm / 2)
    np.testing.assert_allclose(tm.calibre_mm, t.calibre_mm / 2)


def test_root_inside_a_duct_splits_it():
    m = np.zeros((60, 120), bool)
    paint_tube(m, (30, 5), (30, 115), 4)
    t = build_tree(m, (30, 60), pixel_mm=0.1)
    # The root in the middle: two segments, both generation 1, both ending free.
    assert t.n_segments == 2
    assert t.generation.tolist() == [1, 1]
    assert len(t.end_points) == 2
    assert len(t.branch_points) == 1  # a root that divides is a branch point


def test_spurs_pruned_and_loops_cut():
    m = np.zeros((120, 120), bool)
    paint_tube(m, (5, 60), (60, 60), 10)
    m[30, 66] = True  # a one-pixel bump on the wall: a skeleton spur
    # A ring below the stem: a loop.
    r, c = np.mgrid[0:120, 0:120]
    d = np.hypot(r - 85, c - 60)
    m |= (d > 20) & (d < 25)
    paint_tube(m, (60, 60), (63, 60), 10)
    t = build_tree(m, (5, 60), pixel_mm=0.1)
    assert t.loops_cut == 1
    assert nx.is_arborescence(t.to_networkx())
    # Stem, then the ring opened at one place: two arms.
    assert t.n_segments == 3
    assert len(t.end_points) == 2


def test_without_root_starts_at_the_widest_end():
    m = np.zeros((100, 100), bool)
    paint_tube(m, (5, 50), (60, 50), 9)
    paint_tube(m, (60, 50), (95, 20), 4)
    paint_tube(m, (60, 50), (95, 80), 4)
    t = build_tree(m, None, pixel_mm=0.1)
    assert t.node_rc[t.root[0], 0] < 15
    assert t.generation.tolist() == [1, 2, 2]


def test_empty_and_tiny_masks_give_empty_trees():
    assert build_tree(np.zeros((50, 50), bool), None, 0.1).n_segments == 0
    m = np.zeros((50, 50), bool)
    m[20:23, 20:23] = True
    t = build_tree(m, (0, 0), 0.1)
    assert t.n_segments == 0
    assert t.total_length_mm == 0.0


def test_bad_input():
    with pytest.raises(TypeError, match="numpy array"):
        build_tree([[0, 1], [1, 0]], None, 0.1)
    with pytest.raises(ParameterError, match="mask"):
        build_tree(np.zeros((4, 4, 3), bool), None, 0.1)
    with pytest.raises(ParameterError, match="pixel_mm"):
        build_tree(np.zeros((10, 10), bool), None, 0.0)
    with pytest.raises(ParameterError, match="magnification"):
        build_tree(np.zeros((10, 10), bool), None, 0.1, magnification=0.5)
    with pytest.raises(ParameterError, match="root_rc"):
        build_tree(np.zeros((10, 10), bool), (np.nan, 1), 0.1)


def test_terminal_duct_ends_where_the_blush_begins():
    """A 4 px duct ending in a lobular blush (a 16 px wide blob): the free end is put
    where the duct widens, not at the far side of the blob."""
    m = np.zeros((80, 200), bool)
    paint_tube(m, (40.3, 5.2), (40.3, 140.2), 4)
    r, c = np.mgrid[0:80, 0:200]
    m |= ((r - 40.3) / 8.0) ** 2 + ((c - 152.2) / 14.0) ** 2 <= 1  # the blush, 138-166
    t = build_tree(m, (40.3, 5.2), pixel_mm=0.1)
    assert t.n_segments == 1 and t.blush_ends == 1
    end = t.node_rc[t.end_points[0]]
    assert 134 <= end[1] <= 142
    assert t.calibre_mm[0] == pytest.approx(0.4, abs=0.05)
    plain = build_tree(m, (40.3, 5.2), pixel_mm=0.1, blush=False)
    assert plain.node_rc[plain.end_points[0], 1] > 155


def test_gap_is_bridged_and_generations_continue():
    """A side branch cut off from its parent duct by a 1 mm gap (a bubble, or a break in
    the mask) joins the tree: one root, the branch is generation 2."""
    m = np.zeros((120, 160), bool)
    paint_tube(m, (10.2, 40.3), (110.2, 40.3), 6)
    paint_tube(m, (60.2, 53.3), (100.2, 140.3), 4)  # starts 10 px (1 mm) off the wall
    t = build_tree(m, (10.2, 40.3), pixel_mm=0.1)
    assert t.bridges == 1
    assert len(t.root) == 1
    assert len(t.branch_points) == 1 and len(t.end_points) == 2
    assert sorted(t.generation.tolist()) == [1, 2, 2]
    far = build_tree(m, (10.2, 40.3), pixel_mm=0.03)  # the same gap is 0.3 mm: bridged
    assert far.bridges == 1
    apart = np.zeros((120, 160), bool)
    paint_tube(apart, (10.2, 20.3), (110.2, 20.3), 6)
    paint_tube(apart, (10.2, 100.3), (110.2, 100.3), 6)  # 7.4 mm apart at 0.1 mm
    t2 = build_tree(apart, (10.2, 20.3), pixel_mm=0.1)
    assert t2.bridges == 0 and len(t2.root) == 2


def lumen_across_rows(rows: int, cols: int, centre_row: float, radius: float):
    """Pixel rows and cols, offset of each row from the lumen's axis, and the chord of a
    round lumen along the columns averaged over each pixel (10 sub-rows: partial volume
    at the edges)."""
    r, c = np.mgrid[0:rows, 0:cols].astype(float)
    x = r - centre_row
    sub = np.linspace(-0.45, 0.45, 10)
    chord = np.mean([2 * np.sqrt(np.clip(radius**2 - (x + d) ** 2, 0, None)) for d in sub], axis=0)
    return c, x, chord


def test_calibre_from_the_attenuation_across_the_duct():
    """A round lumen of 0.6 mm (6 px) seen as its chord length 2 sqrt(r^2 - x^2) over a
    sloping background, with a mask two pixels too wide on each side: the mask's width
    says 1.0 mm, the cross-section's integral over its peak says 0.6 mm."""
    radius = 3.0
    c, x, chord = lumen_across_rows(60, 200, 30.2, radius)
    intensity = 0.05 * chord + 0.002 * c + 1.0
    mask = (np.abs(x) <= radius + 2) & (c > 10) & (c < 190)
    wide = build_tree(mask, (30, 11), pixel_mm=0.1)
    sharp = build_tree(mask, (30, 11), pixel_mm=0.1, intensity=intensity)
    assert wide.calibre_mm[0] == pytest.approx(1.0, abs=0.05)
    assert sharp.calibre_mm[0] == pytest.approx(0.6, abs=0.04)
    with pytest.raises(ParameterError, match="intensity"):
        build_tree(mask, (30, 11), pixel_mm=0.1, intensity=intensity[:10])


def tree_with_one_loop(shape, ducts, diameter_px):
    """The tree of tubes drawn (row, col pairs) and read from the first one's start at
    0.1 mm: a tree, one loop opened, nothing left out (as long as the tubes)."""
    m = np.zeros(shape, bool)
    for a, b in ducts:
        paint_tube(m, a, b, diameter_px)
    t = build_tree(m, ducts[0][0], pixel_mm=0.1)
    assert nx.is_arborescence(t.to_networkx())
    assert t.loops_cut == 1
    drawn = sum(np.hypot(*np.subtract(b, a)) for a, b in ducts) * 0.1
    assert t.total_length_mm == pytest.approx(drawn, rel=0.05)
    return t


def test_crossing_in_the_projection_is_kept_and_is_no_branch_point():
    """A Y whose left arm sends a side branch across the right arm: the skeleton has a
    loop there, the crossing two junctions a duct's width apart. The crossing duct is
    kept whole (let go of the other where they cross); the crossing's junctions are
    overlaps, neither branch points nor end points. The side branch leaves its duct,
    which goes on straight, and stays a branch point."""
    ducts = [((5, 80), (60, 80)), ((60, 80), (150, 20)), ((60, 80), (150, 140))]
    ducts.append(((90, 60), (110, 150)))  # crosses the right arm near (100.4, 106.9)
    t = tree_with_one_loop((170, 170), ducts, 3)
    branch = t.node_rc[t.branch_points]
    assert len(branch) == 2
    assert np.hypot(*(branch - [100.4, 106.9]).T).min() > 20
    assert np.hypot(*(branch - [60, 80]).T).min() < 4
    assert np.hypot(*(branch - [90, 60]).T).min() < 4
    assert t.overlap.any()
    assert np.hypot(*(t.node_rc[t.overlap] - [100.4, 106.9]).T).max() < 6
    ends = t.node_rc[t.end_points]
    assert len(ends) == 3 and np.hypot(*(ends - [100.4, 106.9]).T).min() > 20
    kinds = {t.node_kind(i) for i in np.flatnonzero(t.overlap)}
    assert kinds == {"overlap"}


def test_division_whose_child_crosses_a_duct_stays_a_branch_point():
    """A Y at (30, 100); its left arm divides at (110, 60), and the child sent back
    crosses the right arm at (54, 172). Round the loop the division lies farther from
    the root than the crossing: the loop is opened at the crossing (the four arms there
    pair into two straight ducts), not at the division's far side."""
    ducts = [((5, 100), (30, 100)), ((30, 100), (70, 220)), ((30, 100), (110, 60))]
    ducts += [((110, 60), (150, 10)), ((110, 60), (40, 200))]
    t = tree_with_one_loop((180, 240), ducts, 4)
    branch = t.node_rc[t.branch_points]
    assert len(branch) == 2
    assert np.hypot(*(branch - [30, 100]).T).min() < 4
    assert np.hypot(*(branch - [110, 60]).T).min() < 10  # the Y's junction sits inside
    assert np.hypot(*(t.node_rc[t.overlap] - [54, 172]).T).max() < 8
    assert len(t.end_points) == 3


def test_loop_opened_where_a_thin_duct_ends_on_a_wide_one():
    """A Y at (40, 210). Its wide left duct winds out and back (230 px to a division at
    (140, 90), bending there and again at (170, 115)); a thin duct from a bend of the
    right duct, (75, 235), ends on the left duct at (170, 115). No junction has a
    straight pair of arms. Round the loop the two ways meet by length on the winding
    duct, before its division; the thin duct is where the images meet, and the loop
    opens there: the three divisions stay branch points, the touch is an overlap."""
    m = np.zeros((270, 300), bool)
    tubes = [
        ((5, 210), (40, 210), 10),  # main duct
        ((40, 210), (40, 90), 8),  # left duct, out ...
        ((40, 90), (140, 90), 8),  # ... and back
        ((140, 90), (170, 115), 8),
        ((170, 115), (250, 130), 8),
        ((140, 90), (200, 50), 5),  # the left duct's side branch
        ((40, 210), (75, 235), 6),  # right duct
        ((75, 235), (170, 250), 6),
        ((75, 235), (170, 115), 3),  # thin duct ending on the left duct
    ]
    for a, b, d in tubes:
        paint_tube(m, a, b, d)
    t = build_tree(m, (5, 210), pixel_mm=0.1)
    assert nx.is_arborescence(t.to_networkx())
    assert t.loops_cut == 1
    branch = t.node_rc[t.branch_points]
    assert len(branch) == 3
    for division in ([40, 210], [140, 90], [75, 235]):
        assert np.hypot(*(branch - division).T).min() < 6
    assert np.hypot(*(t.node_rc[t.overlap] - [170, 115]).T).max() < 6


def test_faint_blob_on_a_duct_is_pruned():
    """A blob of the mask with no contrast behind it, hanging off a filled duct, is not a
    duct; a filled side branch of the same width is kept."""
    rows, cols = 120, 200
    mask = np.zeros((rows, cols), bool)
    paint_tube(mask, (60, 5), (60, 195), 6)
    paint_tube(mask, (60, 60), (110, 100), 6)  # filled side branch
    blob = np.zeros_like(mask)
    paint_tube(blob, (60, 140), (20, 150), 10)  # segmentation blob: wide, no contrast
    intensity = np.where(mask, 1.0, 0.0) + 1.0  # contrast only in the ducts
    mask |= blob
    with_signal = build_tree(mask, (60, 5), pixel_mm=0.1, intensity=intensity)
    mask_only = build_tree(mask, (60, 5), pixel_mm=0.1)
    assert len(mask_only.branch_points) == 2
    assert len(with_signal.branch_points) == 1
    assert np.hypot(*(with_signal.node_rc[with_signal.branch_points[0]] - [60, 60])) <= 5


def test_calibre_taken_over_the_background_next_to_the_duct():
    """The same 0.6 mm lumen lying along a band of denser tissue 2 mm wide (narrower than
    the background's opening, so it stays in the excess): the band's rise is measured
    in a ring just outside the duct and taken off; without that the band's share of the
    cross-section would read as lumen (about 0.86 mm here)."""
    radius = 3.0
    c, x, chord = lumen_across_rows(80, 200, 40.2, radius)
    band = np.where(np.abs(x) <= 10.0, 0.1, 0.0)  # 2 mm of denser tissue, 1/3 of the peak
    intensity = 0.05 * chord + band + 1.0
    mask = (np.abs(x) <= radius + 1) & (c > 10) & (c < 190)
    tree = build_tree(mask, (40, 11), pixel_mm=0.1, intensity=intensity)
    assert tree.calibre_mm[0] == pytest.approx(0.6, abs=0.05)


def _random_multigraph(seed: int):
    """A _Graph of random paths between 40 nodes (parallel paths, self-loops and several
    pieces included) and the same paths as a networkx MultiGraph."""
    from ductogram.analysis.graph import _Graph

    rng = np.random.default_rng(seed)
    coords = rng.integers(0, 400, size=(2000, 2))
    g = _Graph(coords, np.ones(len(coords)))
    multi = nx.MultiGraph()
    spare = iter(range(40, 2000))
    for _ in range(70):
        a, b = (int(v) for v in rng.integers(0, 40, 2))
        inner = [next(spare) for _ in range(int(rng.integers(0, 4)))]
        k = g.add(np.array([a, *inner, b]))
        multi.add_edge(a, b, key=k, length=g.length(k))
    return g, multi


@pytest.mark.parametrize("seed", range(4))
def test_reach_and_pieces_agree_with_networkx(seed):
    from ductogram.analysis.graph import _pieces, _reach

    g, multi = _random_multigraph(seed)
    root = next(iter(multi))
    skip = {n for n in multi if n % 7 == 3 and n != root}
    reference = nx.single_source_dijkstra_path_length(
        nx.restricted_view(multi, skip, []), root, weight="length"
    )
    reach = _reach(g, root, skip)
    for n in range(45):  # 40 - 44 are path pixels, not nodes: never reached
        assert reach(n) == pytest.approx(reference.get(n, np.inf), rel=1e-12)
    pieces = _pieces(g)
    assert [nodes for nodes, _, _ in pieces] == list(nx.connected_components(multi))
    for nodes, pixels, length in pieces:
        keys = [k for a, b, k in multi.edges(keys=True) if a in nodes]
        assert np.array_equal(pixels, np.unique(np.concatenate([g.edges[k] for k in keys])))
        assert length == pytest.approx(sum(g.length(k) for k in keys), rel=1e-12)
