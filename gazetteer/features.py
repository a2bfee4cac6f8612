"""Comparison features of (input address, gazetteer LPI) candidate pairs, all vectorised."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from gazetteer.index import AddressIndex

FEATURES = (
    "pc_exact", "pc_sector", "pc_district", "pc_missing", "pao_eq", "pao_suffix_diff", "pao_range", "pao_conflict",
    "pao_missing", "sao_eq", "sao_conflict", "sao_in_only", "sao_cand_only", "street_ratio", "street_in_text",
    "name_sim", "name_present", "name_unmatched", "in_name_only", "shifted_name", "sao_slash", "shifted_letter",
    "idf_recall", "idf_precision", "status_alt", "status_hist", "paf", "is_parent",
)


def _eq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) & (a != "")


def _cpdist(a: np.ndarray, b: np.ndarray, scorer) -> np.ndarray:
    if len(a) == 0:
        return np.zeros(0, dtype=np.float32)
    return process.cpdist(list(a), list(b), scorer=scorer, workers=-1).astype(np.float32) / 100.0


def pair_features(inputs: pd.DataFrame, index: AddressIndex, in_tokens, i: np.ndarray, j: np.ndarray) -> pd.DataFrame:
    """Features for pairs ``(inputs row i, index row j)``; ``inputs`` carries the parsed columns."""
    t = index.table
    g = lambda col: t[col].to_numpy()[j]  # noqa: E731
    f = lambda col: inputs[col].to_numpy()[i]  # noqa: E731
    in_pc, c_pc = f("pc"), g("pc")
    out: dict[str, np.ndarray] = {}
    exact = _eq(in_pc, c_pc)
    sector = ~exact & _eq(f("sector"), g("sector"))
    district = ~exact & ~sector & _eq(f("district"), g("district"))
    out["pc_exact"], out["pc_sector"], out["pc_district"] = exact, sector, district
    out["pc_missing"] = (in_pc == "") | (c_pc == "")

    in_pao, in_sao, in_suf, in_num = f("pao"), f("sao"), f("pao_suf"), f("pao_num")
    c_pao, c_sao, c_num = g("pao"), g("sao"), g("pao_num")
    c_eff_pao, c_eff_sao = c_pao.copy(), c_sao.copy()
    in_eff_pao, in_eff_sao = in_pao.copy(), in_sao.copy()
    # "12 Rose House" (flat 12 of a named building) against an LPI with SAO 12 and no PAO number.
    shift = (c_pao == "") & (c_sao != "") & (in_sao == "") & (in_pao != "")
    c_eff_pao[shift], c_eff_sao[shift] = c_sao[shift], ""
    # "12A" against flat A at 12, and the converse.
    letter = (in_sao == "") & (in_suf != "") & (c_sao == in_suf) & (c_num == in_num) & (c_num >= 0) & (g("pao_suf") == "")
    c_eff_pao[letter], c_eff_sao[letter] = in_pao[letter], ""
    in_num_str = np.where(in_num >= 0, in_num.astype(str), "")
    # Only a letter flat joins its number: flat 2 at number 1 is never number 12.
    in_letter = np.char.isalpha(in_sao.astype(str)) & (np.char.str_len(in_sao.astype(str)) == 1)
    conv = (c_sao == "") & in_letter & (c_pao == (in_num_str + in_sao).astype(object)) & (in_num >= 0)
    in_eff_pao[conv], in_eff_sao[conv] = c_pao[conv], ""
    # "3/1 Victoria House" read as flat 3 at number 1, against flat "3/1" in an unnumbered building.
    slash = (c_pao == "") & (in_sao != "") & (in_pao != "") & (c_sao == (in_sao.astype(str) + "/" + in_pao.astype(str)).astype(object))
    in_eff_pao[slash], in_eff_sao[slash] = "", c_sao[slash]

    out["shifted_name"] = shift  # number read as a flat of a named building
    out["sao_slash"] = slash  # "1/2 The Barn": a floor/position flat read as flat 1 at number 2
    out["shifted_letter"] = letter | conv  # "12A" read as flat A of number 12, or the reverse
    pao_eq = _eq(in_eff_pao, c_eff_pao)
    c_end, in_end = g("pao_end"), f("pao_end")
    both = (in_num >= 0) & (c_num >= 0) & (in_eff_pao != "") & (c_eff_pao != "")
    suffix_diff = both & ~pao_eq & (in_num == c_num)
    in_range = both & ~pao_eq & ~suffix_diff & (
        ((c_end >= 0) & (in_num >= c_num) & (in_num <= c_end)) | ((in_end >= 0) & (c_num >= in_num) & (c_num <= in_end)))
    missing = (in_eff_pao == "") | (c_eff_pao == "")
    out["pao_eq"], out["pao_suffix_diff"], out["pao_range"] = pao_eq, suffix_diff, in_range
    out["pao_conflict"] = ~pao_eq & ~suffix_diff & ~in_range & ~missing
    out["pao_missing"] = missing & ~pao_eq

    out["sao_eq"] = _eq(in_eff_sao, c_eff_sao)
    out["sao_conflict"] = (in_eff_sao != "") & (c_eff_sao != "") & (in_eff_sao != c_eff_sao)
    out["sao_in_only"] = (in_eff_sao != "") & (c_eff_sao == "")
    out["sao_cand_only"] = (in_eff_sao == "") & (c_eff_sao != "")

    # Streets compare with spaces removed: typing slips move spaces ("BAN KGROVE").
    c_street = g("street_sq")
    out["street_ratio"] = _cpdist(f("street_sq"), c_street, fuzz.ratio)
    has_street = c_street != ""
    sit = np.zeros(len(i), dtype=np.float32)
    sit[has_street] = _cpdist(c_street[has_street], f("text_sq")[has_street], fuzz.partial_ratio)
    out["street_in_text"] = sit
    c_names = g("names")
    present = c_names != ""
    ns = np.zeros(len(i), dtype=np.float32)
    ns[present] = _cpdist(c_names[present], f("text")[present], fuzz.token_set_ratio)
    out["name_sim"], out["name_present"] = ns, present
    in_names = f("names") != ""
    out["name_unmatched"] = present * (1.0 - ns)
    out["in_name_only"] = in_names & ~present

    a = in_tokens[i]
    b = index.tokens[j]
    idf = index.vocab.idf
    shared = np.asarray(a.multiply(b) @ idf).ravel()
    in_total = np.asarray(a @ idf).ravel()
    c_total = np.asarray(b @ idf).ravel()
    out["idf_recall"] = np.divide(shared, in_total, out=np.zeros_like(shared), where=in_total > 0)
    out["idf_precision"] = np.divide(shared, c_total, out=np.zeros_like(shared), where=c_total > 0)

    status = g("status")
    out["status_hist"] = status == 8
    out["status_alt"] = (status != 1) & (status != 8)
    out["paf"] = g("paf")
    out["is_parent"] = g("is_parent")
    frame = pd.DataFrame({k: np.asarray(out[k], dtype=np.float32) for k in FEATURES})
    frame["i"], frame["j"] = i, j
    return frame
