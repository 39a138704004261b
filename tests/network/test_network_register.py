"""The registration kernel against analytic truth: textures that are sums of sinusoids can be sampled
at any sub-pixel shift exactly, so the template's true shift is known without interpolation."""

from __future__ import annotations

import numpy as np
import pytest
from netdata import Texture, chip

from tiepoint.config import RegistrationConfig
from tiepoint.network import STATUSES, NetworkError, RegistrationBatch, register_batch, register_chip

CFG = RegistrationConfig()
R = max(CFG.template_px, CFG.second_template_px)
S = CFG.search_px


def pair(seed: int, dx: float, dy: float):
    """Template and search chip of one texture; the template's content sits at (dx, dy) in the search."""
    tex = Texture(seed)
    return chip(tex, R, dx, dy), chip(tex, S)


def test_known_shifts_are_recovered_to_a_few_hundredths_of_a_pixel():
    rng = np.random.default_rng(0)
    n = 200
    shifts = rng.uniform(-3.5, 3.5, (n, 2))  # within max_shift_px (5) of the centre
    t, s = zip(*(pair(k, *shifts[k]) for k in range(n)), strict=True)
    batch = register_batch(np.stack(t), np.stack(s))
    assert batch.ok.all(), np.unique(batch.status, return_counts=True)
    err = np.hypot(batch.dx - shifts[:, 0], batch.dy - shifts[:, 1])
    assert np.sqrt(np.mean(err**2)) < 0.05
    assert (batch.ncc > 0.9).all() and (batch.disagreement_px < 0.1).all()


def test_one_chip_is_the_same_as_its_batch_row():
    t, s = pair(3, 1.3, -2.2)
    one = register_chip(t, s)
    batch = register_batch(np.stack([t, pair(4, 0, 0)[0]]), np.stack([s, pair(4, 0, 0)[1]]))
    assert one == batch[0]
    assert one.ok and abs(one.dx - 1.3) < 0.05 and abs(one.dy + 2.2) < 0.05


def test_correlation_ignores_gain_and_offset():
    tex = Texture(5)
    a = register_chip(chip(tex, R, 0.7, 0.2), chip(tex, S))
    b = register_chip(
        chip(tex, R, 0.7, 0.2, gain=3.0, offset=-2.0), chip(tex, S, gain=20000.0, offset=30000.0)
    )
    assert a.ok and b.ok
    assert abs(a.dx - b.dx) < 1e-3 and abs(a.dy - b.dy) < 1e-3


def test_a_template_with_a_masked_pixel_is_masked():
    t, s = pair(6, 0.5, 0.5)
    mask = np.zeros_like(t, bool)
    mask[R // 2, R // 2 + 3] = True
    r = register_chip(np.ma.MaskedArray(t, mask), s)
    assert r.status == "masked" and np.isnan(r.dx)
    t[0, 0] = np.nan  # NaN counts as masked, in the outer (second-size) ring too
    assert register_chip(t, s).status == "masked"


def test_masked_search_pixels_are_never_used():
    t, s = pair(7, 1.0, -1.0)
    clean = register_chip(t, s)
    # masked pixels away from the match void only the positions that touch them
    mask = np.zeros_like(s, bool)
    mask[:, :2] = True
    far = register_chip(t, np.ma.MaskedArray(s, mask))
    assert far.ok and abs(far.dx - clean.dx) < 1e-5 and abs(far.dy - clean.dy) < 1e-5
    # masked pixels at the match: the true position is void, so no match can be ok there, and the
    # masked values themselves (garbage here) never enter the correlation
    mask = np.zeros_like(s, bool)
    c = S // 2
    mask[c - 2 : c + 3, c - 2 : c + 3] = True
    garbage = s.copy()
    garbage[mask] = 1e9
    hit = register_chip(t, np.ma.MaskedArray(garbage, mask))
    assert not hit.ok
    assert hit.status in {"masked", "edge", "low_ncc", "shift_too_large", "no_consensus"}
    fully = register_chip(t, np.ma.MaskedArray(s, np.ones_like(s, bool)))
    assert fully.status == "masked"


def test_noise_only_ground_is_low_contrast():
    rng = np.random.default_rng(8)
    t, _ = pair(8, 0, 0)
    s = 200.0 + rng.normal(0, 30, (S, S))  # a shadow: no signal, noise only
    r = register_chip(t, s)
    assert r.status == "low_contrast"
    assert abs(r.texture) < 0.15


def test_unrelated_ground_is_low_ncc():
    t = chip(Texture(9), R)
    s = chip(Texture(10), S)
    r = register_chip(t, s)
    assert r.status == "low_ncc" and r.ncc < CFG.min_ncc


def test_a_match_outside_the_search_area_is_edge():
    cfg = RegistrationConfig(max_shift_px=20.0, search_px=R + 2 * 20 + 2)
    tex = Texture(11)
    t = chip(tex, R, 24.3, 0.0)  # beyond the search area
    r = register_chip(t, chip(tex, cfg.search_px), cfg)
    assert r.status in {"edge", "low_ncc"}
    t = chip(tex, R, 0.0, 21.0)  # on its border
    r = register_chip(t, chip(tex, cfg.search_px), cfg)
    assert r.status == "edge"


def test_a_shift_beyond_the_limit_is_refused():
    tex = Texture(12)
    t = chip(tex, R, 5.6, 0.0)
    r = register_chip(t, chip(tex, S))
    assert r.status == "shift_too_large" and abs(r.dx - 5.6) < 0.1
    assert register_chip(t, chip(tex, S), RegistrationConfig(max_shift_px=6.0)).ok


def test_templates_that_disagree_have_no_consensus():
    # the 31-px centre of the template matches at (+1, 0), its outer ring at (-1, 0)
    tex = Texture(13)
    small = CFG.second_template_px
    o = (R - small) // 2
    t = chip(tex, R, -1.0, 0.0)
    t[o : o + small, o : o + small] = chip(tex, small, 1.0, 0.0)
    r = register_chip(t, chip(tex, S))
    assert r.status == "no_consensus" and r.disagreement_px > CFG.consensus_px
    no_check = RegistrationConfig(second_template_px=None)
    assert register_chip(t, chip(tex, S), no_check).status in {"ok", "low_ncc"}


def test_every_status_is_documented_and_batches_combine():
    rng = np.random.default_rng(14)
    t = np.stack([pair(k, *rng.uniform(-6, 6, 2))[0] for k in range(20)])
    s = np.stack([pair(k, 0, 0)[1] if k % 3 else rng.normal(size=(S, S)) for k in range(20)])
    batch = register_batch(t, s)
    assert set(batch.status.tolist()) <= set(STATUSES)
    both = RegistrationBatch.concatenate([batch, RegistrationBatch.failed(3, "outside")])
    assert len(both) == 23 and both.status[-3:].tolist() == ["outside"] * 3
    assert both.take(np.arange(20)).status.tolist() == batch.status.tolist()
    with pytest.raises(ValueError, match="unknown registration status"):
        RegistrationBatch.failed(1, "wonky")


def test_empty_batches_and_bad_stacks():
    assert len(register_batch(np.empty((0, R, R)), np.empty((0, S, S)))) == 0
    t, s = pair(15, 0, 0)
    with pytest.raises(NetworkError, match="square chips of odd size"):
        register_batch(t[None, :, :-1], s[None])
    with pytest.raises(NetworkError, match="2 templates but 1 search chips"):
        register_batch(np.stack([t, t]), s[None])
    with pytest.raises(NetworkError, match="smaller than the template size"):
        register_batch(t[None, 1:-1, 1:-1], s[None])
    with pytest.raises(NetworkError, match="too small"):
        register_batch(t[None], s[None, 4:-4, 4:-4])
