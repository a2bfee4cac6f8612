"""Match free-text addresses to UPRNs: index → candidates → compare → calibrated score → band."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from gazetteer.calibration import Calibration, load_calibration
from gazetteer.errors import MatchInputError
from gazetteer.features import pair_features
from gazetteer.index import AddressIndex, token_string
from gazetteer.model import Gazetteer
from gazetteer.normalise import ABBREVIATIONS, STREET_TYPES
from gazetteer.parse import parse_addresses
from gazetteer.postcode import normalise_postcodes
from schemas.columns import AddressMatchFrame as M
from schemas.columns import Band

FUZZY_BELOW = 0.95  # inputs whose best pair probability is below this also get fuzzy-street candidates
MAX_BLOCK = 80  # postcode blocks larger than this keep only number-compatible LPIs
MAX_CANDIDATES = 150  # per input, after cheap key agreement


class AddressMatcher:
    """Match addresses against one gazetteer (build once, match many batches).

    Examples:
        >>> m = AddressMatcher(read_gazetteer(path))  # doctest: +SKIP
        >>> m.match(pd.DataFrame({"id": [1], "address": ["Flat 2, 12 High St, LS1 1AA"]}))  # doctest: +SKIP
    """

    def __init__(self, gazetteer: Gazetteer, *, auto_threshold: float = 0.99, review_threshold: float = 0.80,
                 calibration: Calibration | None = None) -> None:
        if not 0 < review_threshold <= auto_threshold <= 1:
            raise ValueError("thresholds must satisfy 0 < review <= auto <= 1")
        self.auto_threshold = auto_threshold
        self.review_threshold = review_threshold
        self.calibration = calibration or load_calibration()
        self.index = AddressIndex.build(gazetteer)
        t = self.index.table
        self._streets = pd.Index(pd.unique(t["street"][t["street"] != ""]))
        self._streets_sq = [x.replace(" ", "") for x in self._streets]
        self._street_set = frozenset(self._streets)
        self._street_by_squashed = _squashed_streets(self._streets)
        self._street_len = np.array([len(x) for x in self._streets_sq], dtype=np.int64)
        self._street_codes = pd.Categorical(t["street"], categories=self._streets).codes

    # -- Index: parse inputs ------------------------------------------------------------------
    def _prepare(self, addresses: pd.DataFrame, address_col: str, postcode_col: str | None) -> pd.DataFrame:
        p = parse_addresses(addresses[address_col].reset_index(drop=True))
        pc = p["postcode"].astype(object).where(p["postcode"].notna(), "")
        if postcode_col is not None:
            given = normalise_postcodes(addresses[postcode_col].reset_index(drop=True))
            pc = given.where(given.notna(), pc).astype(object)
        inp = pd.DataFrame(index=p.index)
        inp["pc"] = pc.fillna("").astype(object)
        inp["sector"] = inp["pc"].str[:-2].fillna("")
        inp["district"] = inp["pc"].str.split(" ").str[0].fillna("")
        num = pd.to_numeric(p["pao_start_number"], errors="coerce")
        inp["pao_num"] = num.fillna(-1).astype("int64")
        inp["pao_end"] = pd.to_numeric(p["pao_end_number"], errors="coerce").fillna(-1).astype("int64")
        inp["pao_suf"] = p["pao_start_suffix"].fillna("").astype(object)
        inp["pao"] = np.where(inp["pao_num"] >= 0, inp["pao_num"].astype(str) + inp["pao_suf"], "").astype(object)
        inp["sao"] = p["sao_key"].fillna("").astype(object)
        street, building, text = self._repair_street(p["street"].fillna(""), p["text"].fillna(""))
        inp["street"] = street
        pao_text = p["pao_text"].fillna("").astype(object)
        inp["pao_text"] = np.where(pao_text == "", building, np.where(building == "", pao_text, pao_text + " " + building))
        inp["names"] = (p["organisation"].fillna("") + " " + inp["pao_text"]).str.strip().astype(object)
        inp["text"] = text
        inp["street_sq"] = inp["street"].str.replace(" ", "", regex=False)
        inp["text_sq"] = inp["text"].str.replace(" ", "", regex=False)
        return inp

    def _repair_street(self, streets: pd.Series, texts: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Find the gazetteer street inside a parsed street that the grammar could not split.

        "THE BARN IVY TERRACE" (a building name without a building word), "OAKROAD" / "IVYW AY"
        (a slipped space) and "MEADOWP L DUNDEE" (the town run on): the longest run of words whose
        letters, spaces removed, spell a gazetteer street (or it with its type abbreviated) is the street;
        words before it name the building. Distinct values only. Returns (street, building, text).
        """
        codes, uniques = pd.factorize(streets.astype(object) + "|" + texts.astype(object))
        sq = self._street_by_squashed
        out_st, out_bu, out_tx = [], [], []
        for u in uniques:
            street, text = u.split("|", 1)
            words, building = street.split(), ""
            if street and street not in self._street_set:
                n = len(words)
                found = next(((a, b) for size in range(min(n, 6), 0, -1) for a in range(0, n - size + 1)
                              for b in (a + size,) if "".join(words[a:b]) in sq), None)
                if found is not None:
                    a, b = found
                    canon = sq["".join(words[a:b])]
                    text = text.replace(" ".join(words[a:b]), canon, 1)
                    street, building = canon, " ".join(words[:a])
            out_st.append(street)
            out_bu.append(building)
            out_tx.append(text)
        pick = lambda xs: np.array(xs + [""], dtype=object)[codes]  # noqa: E731
        return pick(out_st), pick(out_bu), pick(out_tx)

    # -- Candidates --------------------------------------------------------------------------
    def _candidates(self, inp: pd.DataFrame) -> pd.DataFrame:
        t = self.index.table
        left = inp.reset_index(names="i")
        tj = t.reset_index(names="j")
        by_pc = left.loc[left["pc"] != "", ["i", "pc", "pao_num", "sao"]].merge(
            tj[["j", "pc", "pao_num", "sao"]], on="pc", suffixes=("", "_c"))
        size = by_pc.groupby("i")["j"].transform("size")
        compatible = (by_pc["pao_num_c"] == by_pc["pao_num"]) | (by_pc["pao_num_c"] < 0) | (by_pc["pao_num"] < 0)
        by_pc = by_pc.loc[(size <= MAX_BLOCK) | compatible, ["i", "j"]]
        by_street = left.loc[(left["street"] != "") & (left["pao_num"] >= 0), ["i", "street", "pao_num"]].merge(
            tj.loc[tj["street"] != "", ["j", "street", "pao_num"]], on=["street", "pao_num"])[["i", "j"]]
        # Building names repeat across a city ("Rose Cottage"): within the postcode district when known.
        named = left.loc[left["pao_text"] != "", ["i", "pao_text", "district"]]
        by_name = pd.concat([
            named.loc[named["district"] != ""].merge(tj.loc[tj["pao_text"] != "", ["j", "pao_text", "district"]],
                                                     on=["pao_text", "district"])[["i", "j"]],
            named.loc[named["district"] == ""].merge(tj.loc[tj["pao_text"] != "", ["j", "pao_text"]],
                                                     on="pao_text")[["i", "j"]],
        ])
        pairs = pd.concat([by_pc, by_street, by_name], ignore_index=True).drop_duplicates()
        return self._cap(inp, pairs)

    def _cap(self, inp: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
        """Keep the MAX_CANDIDATES most plausible pairs per input by a cheap key-agreement count."""
        if pairs.empty:
            return pairs
        size = pairs.groupby("i")["j"].transform("size").to_numpy()
        if size.max() <= MAX_CANDIDATES:
            return pairs
        t = self.index.table
        i, j = pairs["i"].to_numpy(), pairs["j"].to_numpy()
        prelim = np.zeros(len(pairs), dtype=np.int16)
        for col, w in (("pc", 4), ("sector", 2), ("pao", 3), ("sao", 2), ("street_sq", 3), ("pao_text", 2)):
            a, b = inp[col].to_numpy()[i], t[col].to_numpy()[j]
            prelim += (w * ((a == b) & (a != ""))).astype(np.int16)
        ranked = pairs.assign(_p=prelim).sort_values(["i", "_p"], ascending=[True, False], kind="stable")
        return ranked.loc[ranked.groupby("i").cumcount() < MAX_CANDIDATES, ["i", "j"]]

    def _fuzzy_street_candidates(self, inp: pd.DataFrame, rows: np.ndarray, limit: int = 3) -> pd.DataFrame:
        """Candidates on the gazetteer streets most like each input's street (postcode missing or wrong)."""
        sub = inp.iloc[rows]
        if sub.empty or len(self._streets) == 0:
            return pd.DataFrame({"i": [], "j": []}, dtype="int64")
        queries = (sub["street"] + "|" + sub["text_sq"]).to_numpy()
        uq, first, inv = np.unique(queries, return_index=True, return_inverse=True)
        q_street = sub["street"].to_numpy()[first]
        scores = process.cdist(list(q_street), list(self._streets), scorer=fuzz.token_set_ratio, score_cutoff=85,
                               workers=-1, dtype=np.uint8)
        squashed = process.cdist([q.replace(" ", "") for q in q_street], self._streets_sq, scorer=fuzz.ratio,
                                 score_cutoff=85, workers=-1, dtype=np.uint8)
        scores = np.maximum(scores, squashed)
        scores[q_street == ""] = 0
        # A slip inside the street type ("HILLG ROVE", "MAPLE DRVIE") hides where the street ends: look for
        # each gazetteer street (squashed, long enough to be telling) anywhere in the letters of the input.
        letters = pd.Series(sub["text_sq"].to_numpy()[first]).str.replace(r"[^A-Z]+", "", regex=True)
        in_text = process.cdist(list(letters), self._streets_sq, scorer=fuzz.partial_ratio, score_cutoff=90,
                                workers=-1, dtype=np.uint8)
        in_text[:, self._street_len < 8] = 0
        scores = np.maximum(scores, in_text)
        k = min(limit, scores.shape[1])
        top = np.argpartition(scores, scores.shape[1] - k, axis=1)[:, -k:]
        top_scores = np.take_along_axis(scores, top, axis=1)
        qi, slot = np.nonzero(top_scores > 0)
        pairs_q = pd.DataFrame({"q": qi, "code": top[qi, slot]})
        in_q = pd.DataFrame({"i": sub.index.to_numpy(), "q": inv, "pao_num": sub["pao_num"].to_numpy()})
        t = self.index.table
        tj = pd.DataFrame({"j": np.arange(len(t)), "code": self._street_codes, "pao_num_c": t["pao_num"].to_numpy()})
        m = in_q.merge(pairs_q, on="q").merge(tj.loc[tj["code"] >= 0], on="code")
        keep = (m["pao_num"] < 0) | (m["pao_num_c"] == m["pao_num"]) | (m["pao_num_c"] < 0)
        return self._cap(inp, m.loc[keep, ["i", "j"]])

    def _unplaced(self, feats: pd.DataFrame, inp: pd.DataFrame, best: pd.DataFrame) -> np.ndarray:
        """Inputs whose street and number exist in several places when nothing in the input says which.

        "22 Green Terrace, Glasgow" with no postcode, where Glasgow has a Green Terrace in Partick and
        another in Dennistoun: even a unique flat match may be the other street's, so never auto.
        """
        t = self.index.table
        agree = feats.loc[(feats["pao_eq"] > 0) & (feats["street_ratio"] >= 0.9), ["i", "j"]]
        places = agree.assign(place=t["place"].to_numpy()[agree["j"].to_numpy()]).groupby("i")["place"].nunique()
        several = places.reindex(range(len(inp)), fill_value=0).to_numpy() > 1
        several &= (best["pc_exact"].to_numpy() == 0) & (best["j"].to_numpy() >= 0)
        rows = np.flatnonzero(several)  # few: only these need the locality look-up
        loc = t["locality"].to_numpy()[best["j"].to_numpy()[rows]]
        text = inp["text"].to_numpy()[rows]
        several[rows] = [not (lc and f" {lc} " in f" {tx} ") for lc, tx in zip(loc, text)]
        return several

    # -- Compare + classify --------------------------------------------------------------------
    def _score_pairs(self, inp: pd.DataFrame, pairs: pd.DataFrame, in_tokens) -> pd.DataFrame:
        feats = pair_features(inp, self.index, in_tokens, pairs["i"].to_numpy(), pairs["j"].to_numpy())
        feats["p"] = self.calibration.pair_probability(feats)
        feats["uprn"] = self.index.table["uprn"].to_numpy()[feats["j"].to_numpy()]
        feats["retired"] = self.index.table["retired"].to_numpy()[feats["j"].to_numpy()]
        return feats

    def candidate_features(self, addresses: pd.DataFrame, *, address_col: str = "address",
                           postcode_col: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Scored candidate pairs (features, ``p``, ``uprn``, input row ``i``) and the parsed inputs."""
        inp = self._prepare(addresses, address_col, postcode_col)
        in_tokens = self.index.vocab.matrix(token_string(inp["text"]))
        pairs = self._candidates(inp)
        feats = self._score_pairs(inp, pairs, in_tokens)
        best = feats.groupby("i")["p"].max().reindex(inp.index, fill_value=0.0)
        weak = np.flatnonzero(best.to_numpy() < FUZZY_BELOW)
        if len(weak):
            extra = self._fuzzy_street_candidates(inp, weak)
            extra = extra.merge(pairs, how="left", indicator=True).query("_merge == 'left_only'")[["i", "j"]]
            if len(extra):
                feats = pd.concat([feats, self._score_pairs(inp, extra, in_tokens)], ignore_index=True)
        return feats, inp

    def match(self, addresses: pd.DataFrame, *, id_col: str = "id", address_col: str = "address",
              postcode_col: str | None = None) -> pd.DataFrame:
        """One row per input: ``id, uprn, score, band, reason`` (:class:`AddressMatchFrame`)."""
        for col in (id_col, address_col) + ((postcode_col,) if postcode_col else ()):
            if col not in addresses.columns:
                raise MatchInputError(f"address input lacks column {col!r}")
        feats, inp = self.candidate_features(addresses, address_col=address_col, postcode_col=postcode_col)
        n = len(inp)
        best, p2 = select_best(feats, n)
        score = self.calibration.final_probability(best["p"].to_numpy(), p2)
        found = best["j"].to_numpy() >= 0
        score = np.where(found, score, 0.0)
        # Never auto-match a different flat, a parent for a flat, or a different house number.
        unsafe = (best["sao_conflict"] + best["sao_in_only"] + best["sao_cand_only"] + best["pao_conflict"]).to_numpy() > 0
        unplaced = self._unplaced(feats, inp, best)
        unsafe |= unplaced | (best["retired_twin"].to_numpy() > 0)
        best["unplaced"] = unplaced.astype(np.float32)
        score = np.where(unsafe, np.minimum(score, self.auto_threshold - 0.005), score)
        band = np.where(score >= self.auto_threshold, Band.AUTO, np.where(score >= self.review_threshold, Band.REVIEW, Band.NONE))
        uprn = pd.array(np.where(found & (band != Band.NONE), best["uprn"].to_numpy(), 0), dtype="Int64")
        uprn[~(found & (band != Band.NONE))] = pd.NA
        out = pd.DataFrame({
            M.id: addresses[id_col].to_numpy(), M.uprn: uprn, M.score: np.round(score, 4), M.band: band,
            M.reason: reasons(best, p2, found),
        })
        return out.loc[:, list(M.COLUMNS)]


def _squashed_streets(streets: pd.Index) -> dict[str, str]:
    """Street name, spaces removed, with and without its type abbreviated → the gazetteer's street name."""
    abbrevs: dict[str, list[str]] = {}
    for short, full in ABBREVIATIONS.items():
        if full in STREET_TYPES and short.isalpha():
            abbrevs.setdefault(full, []).append(short)
    out: dict[str, str] = {}
    for st in streets:
        words = st.split()
        forms = ["".join(words)] + ["".join(words[:-1]) + a for a in abbrevs.get(words[-1], [])]
        for f in forms:
            if len(f) >= 6:
                out.setdefault(f, st)
    return out


TIE_LOGIT = 0.5  # pair probabilities this close (on the logit scale) are "otherwise tied"


def select_best(feats: pd.DataFrame, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Best pair per input and the best probability of any *other* UPRN (NaN if none).

    Among candidates tied with the best, a property in use or approved wins over a retired one
    (historical or rejected BLPU, or one no longer existing), and the retired one is no runner-up:
    a demolished house and its rebuilt successor share an address, but only one is there now.
    ``best["over_retired"]`` marks inputs where that preference decided; ``best["retired_twin"]`` those
    where a retired property shares the chosen one's address (sources may still hold the retired UPRN,
    so the match is never auto).
    """
    f = feats.sort_values(["i", "p"], ascending=[True, False], kind="stable")
    retired = "retired" in f and bool(f["retired"].any())
    if retired:
        lg = np.log(np.clip(f["p"], 1e-9, 1.0)) - np.log(np.clip(1.0 - f["p"], 1e-9, 1.0))
        tied = (lg.groupby(f["i"]).transform("max") - lg) < TIE_LOGIT
        f = f.assign(_tier=np.where(tied, f["retired"].astype(np.int8), 2))
        f = f.sort_values(["i", "_tier", "p"], ascending=[True, True, False], kind="stable")
    top = f.drop_duplicates("i")
    per_uprn = f.drop_duplicates(["i", "uprn"])
    over = twin = pd.Series(dtype=bool)
    if retired:
        best_live = per_uprn["i"].map(~top.set_index("i")["retired"].astype(bool))
        yields = (per_uprn["_tier"] == 1) & best_live
        over = yields.groupby(per_uprn["i"]).any()
        # A rebuilt property: the demolished one has the same address, and sources may still hold its UPRN.
        same = (per_uprn["pao_eq"] > 0) & (per_uprn["street_ratio"] >= 0.9) & (per_uprn["sao_conflict"] == 0) \
            & (per_uprn["sao_in_only"] == 0) & (per_uprn["sao_cand_only"] == 0)
        twin = (per_uprn["retired"].astype(bool) & best_live & same).groupby(per_uprn["i"]).any()
        per_uprn = per_uprn.loc[~yields]
    second = per_uprn.loc[per_uprn.groupby("i").cumcount() == 1].set_index("i")["p"]
    best = top.set_index("i").reindex(range(n))
    best["j"] = best["j"].fillna(-1).astype("int64")
    best = best.drop(columns=[c for c in ("_tier", "retired") if c in best]).fillna(0.0)
    best["over_retired"] = over.reindex(range(n), fill_value=False).to_numpy(dtype=np.float32)
    best["retired_twin"] = twin.reindex(range(n), fill_value=False).to_numpy(dtype=np.float32)
    p2 = second.reindex(range(n)).to_numpy(dtype=np.float64)
    return best, p2


def reasons(best: pd.DataFrame, p2: np.ndarray, found: np.ndarray) -> np.ndarray:
    """A few words saying what agreed and what did not, per input."""
    b = {c: best[c].to_numpy() > 0.5 for c in ("pc_exact", "pc_sector", "pc_district", "pc_missing", "pao_eq",
                                                "pao_range", "pao_suffix_diff", "pao_conflict", "sao_eq",
                                                "sao_conflict", "sao_in_only", "sao_cand_only", "status_hist",
                                                "status_alt", "paf", "over_retired")}
    street = best["street_in_text"].to_numpy()
    pieces = [
        np.where(b["pc_exact"], "postcode", np.where(b["pc_sector"], "postcode sector", np.where(b["pc_district"], "postcode district", ""))),
        np.where(street >= 0.9, "street", ""),
        np.where(b["pao_eq"], "number", np.where(b["pao_range"], "number in range", "")),
    ]
    agree = _join(pieces, "+")
    text = np.where(agree != "", agree + " agree", "")
    notes = [
        np.where(b["pc_missing"], "no postcode", np.where(~(b["pc_exact"] | b["pc_sector"] | b["pc_district"]), "postcode differs", "")),
        np.where(street < 0.9, "street differs", ""),
        np.where(b["pao_conflict"], "number differs", np.where(b["pao_suffix_diff"], "suffix differs", "")),
        np.where(b["sao_eq"], "flat agrees", np.where(b["sao_conflict"], "different flat", np.where(
            b["sao_in_only"], "building only, flat not found", np.where(b["sao_cand_only"], "flat not given", "")))),
        np.where(b["status_hist"], "via historical address", np.where(b["status_alt"], "via alternative address",
                                                                        np.where(b["paf"], "via PAF address", ""))),
        np.where(~np.isnan(p2) & (p2 > 0.5), "close runner-up", ""),
        np.where(best["over_retired"].to_numpy() > 0, "in-use property preferred over a retired one",
                 np.where(best["retired_twin"].to_numpy() > 0, "a retired property has the same address", "")),
        np.where(best["unplaced"].to_numpy() > 0, "street in several places", "") if "unplaced" in best
        else np.full(len(best), "", dtype=object),
    ]
    text = _join([text] + notes, "; ")
    return np.where(found, text, "no candidate")


def _join(parts: list[np.ndarray], sep: str) -> np.ndarray:
    out = parts[0].astype(object)
    for p in parts[1:]:
        p = p.astype(object)
        out = np.where((out != "") & (p != ""), out + sep + p, np.where(out != "", out, p))
    return out
