"""Matching index over a gazetteer's addresses: normalised keys per LPI and IDF token weights."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from gazetteer.model import Gazetteer
from gazetteer.normalise import NOISE_TOKENS, normalise_text
from gazetteer.parse import sao_key
from schemas.columns import LpiFrame as L
from schemas.columns import PropertyFrame as P

_SPLIT = re.compile(r"[ ,/\-]+")


def _map(values: pd.Series, fn) -> np.ndarray:
    """Apply ``fn`` to distinct values only; missing → ``fn("")``."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([fn(u) for u in uniques] + [fn("")], dtype=object)
    return mapped[codes]


def _int_str(v: object) -> str:
    try:
        return str(int(float(v)))
    except (TypeError, ValueError):
        return ""


def _words(text: str) -> list[str]:
    return [w for w in _SPLIT.split(text) if w and not w.isdigit() and w not in NOISE_TOKENS]


@dataclass
class Vocabulary:
    """Token → column id with inverse-document-frequency weights over the gazetteer's addresses."""

    index: pd.Index
    idf: np.ndarray

    def matrix(self, texts: pd.Series | np.ndarray) -> sparse.csr_matrix:
        """Binary row-per-text token matrix over this vocabulary (unknown tokens dropped)."""
        return _token_matrix(np.asarray(texts, dtype=object), self.index)


def _token_matrix(texts: np.ndarray, vocab: pd.Index) -> sparse.csr_matrix:
    """Binary token matrix of normalised texts, built once per distinct text."""
    codes, uniques = pd.factorize(texts)
    toks = [_words(u) for u in uniques]
    lens = np.fromiter((len(t) for t in toks), dtype=np.int64, count=len(toks))
    flat = [w for t in toks for w in t]
    cols = vocab.get_indexer(flat) if flat else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(toks)), lens)
    keep = cols >= 0
    uniq = sparse.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], cols[keep])),
                             shape=(len(toks), len(vocab)))
    uniq.data[:] = 1.0
    return uniq[np.where(codes >= 0, codes, 0)] if len(toks) else sparse.csr_matrix((len(texts), len(vocab)), dtype=np.float32)


@dataclass
class AddressIndex:
    """Per-LPI normalised keys (``table``), token matrix and vocabulary."""

    table: pd.DataFrame
    vocab: Vocabulary
    tokens: sparse.csr_matrix

    @classmethod
    def build(cls, gaz: Gazetteer) -> AddressIndex:
        lp = gaz.lpis.reset_index(drop=True)
        t = pd.DataFrame(index=lp.index)
        t["uprn"] = pd.to_numeric(lp[L.uprn], errors="coerce").fillna(-1).astype("int64")
        t["status"] = pd.to_numeric(lp[L.logical_status], errors="coerce").fillna(1).astype("int64").to_numpy()
        t["paf"] = (lp[L.kind] == "paf").to_numpy()
        pc = pd.Series(_map(lp[L.postcode], lambda v: str(v) if v else ""), index=lp.index)
        if len(gaz.properties):
            ppc = gaz.properties.drop_duplicates(P.uprn).set_index(P.uprn)[P.postcode]
            fill = t["uprn"].map(ppc)
            pc = pc.where(pc != "", pd.Series(_map(fill, lambda v: str(v) if v else ""), index=lp.index))
        t["pc"] = pc.astype(object)
        t["sector"] = _map(pc, lambda v: v[:-2] if v else "")
        t["district"] = _map(pc, lambda v: v.split(" ")[0] if v else "")
        pao_text = pd.Series(_map(lp[L.pao_text], normalise_text), index=lp.index)
        num = pd.Series(_map(lp[L.pao_start_number], _int_str), index=lp.index)
        suf = pd.Series(_map(lp[L.pao_start_suffix], lambda v: str(v).strip().upper() if v else ""), index=lp.index)
        # PAF building names such as "12A" are numbers.
        numeric_name = pd.Series(_map(pao_text, lambda v: bool(re.fullmatch(r"[0-9]+ ?[A-Z]?", v))), index=lp.index).astype(bool)
        numeric_name &= num == ""
        if numeric_name.any():
            num = num.where(~numeric_name, pao_text.str.extract(r"^([0-9]+)")[0])
            suf = suf.where(~numeric_name, pao_text.str.extract(r"([A-Z])$")[0].fillna(""))
            pao_text = pao_text.where(~numeric_name, "")
        t["pao_num"] = pd.to_numeric(num.where(num != ""), errors="coerce").fillna(-1).astype("int64").to_numpy()
        t["pao_end"] = pd.to_numeric(lp[L.pao_end_number], errors="coerce").fillna(-1).astype("int64").to_numpy()
        t["pao_suf"] = suf.to_numpy(dtype=object)
        t["pao"] = np.where(t["pao_num"] >= 0, num.to_numpy(dtype=object) + suf.to_numpy(dtype=object), "").astype(object)
        t["pao_text"] = pao_text.to_numpy(dtype=object)
        sao_raw = (pd.Series(_map(lp[L.sao_text], lambda v: str(v) if v else ""), index=lp.index) + " "
                   + _map(lp[L.sao_start_number], _int_str) + _map(lp[L.sao_start_suffix], lambda v: str(v) if v else ""))
        end = pd.Series(_map(lp[L.sao_end_number], _int_str), index=lp.index)
        sao_raw = sao_raw.where(end == "", sao_raw + "-" + end)
        t["sao"] = _map(sao_raw.str.strip(), sao_key)
        t["street"] = _map(lp[L.street_description], normalise_text)
        t["street_sq"] = _map(t["street"], lambda v: v.replace(" ", ""))
        parents = set(pd.to_numeric(gaz.properties[P.parent_uprn], errors="coerce").dropna().astype("int64")) \
            if len(gaz.properties) else set()
        t["is_parent"] = t["uprn"].isin(parents).to_numpy()
        t["retired"] = t["uprn"].isin(retired_uprns(gaz.properties)).to_numpy()
        org = pd.Series(_map(lp[L.organisation], normalise_text), index=lp.index)
        t["names"] = (org + " " + pao_text).str.strip().to_numpy(dtype=object)
        locality = _map(lp[L.locality], normalise_text)
        town = _map(lp[L.town], normalise_text)
        t["locality"] = locality
        # Where a street is: its USRN, else its name with locality and town (minimal CSVs have no USRN).
        usrn = pd.Series(_map(lp[L.usrn], _int_str), index=lp.index)
        t["place"] = usrn.where(usrn != "", t["street"] + "|" + locality + "|" + town).to_numpy(dtype=object)
        sao_words = _map(lp[L.sao_text], normalise_text)
        # Tokens per field (few distinct values each), so IDF and the matrix need no per-row splitting.
        fields = [t["street"].to_numpy(), locality, town, pao_text.to_numpy(dtype=object), org.to_numpy(dtype=object), sao_words]
        field_tokens = []
        for values in fields:
            codes, uniques = pd.factorize(values)
            field_tokens.append((codes, [_words(u) for u in uniques]))
        vocab_words = pd.Index(sorted({w for _, toks in field_tokens for ws in toks for w in ws}))
        mat = None
        for (codes, toks), values in zip(field_tokens, fields):
            m = _token_matrix(values, vocab_words)
            mat = m if mat is None else mat + m
        mat = mat.tocsr()
        mat.data[:] = 1.0
        doc_freq = np.asarray(mat.sum(axis=0)).ravel()
        idf = (np.log((len(t) + 1) / (doc_freq + 1)) + 1.0).astype(np.float32)
        return cls(table=t, vocab=Vocabulary(index=vocab_words, idf=idf), tokens=mat)


RETIRED_STATUS = (8, 9)  # BLPU logical status: historical, rejected
RETIRED_STATE = (4,)  # BLPU state: no longer existing (demolished)


def retired_uprns(properties: pd.DataFrame) -> set[int]:
    """Properties that are historical or rejected, or no longer exist (BLPU logical status / state)."""
    if not len(properties):
        return set()
    status = pd.to_numeric(properties[P.logical_status], errors="coerce")
    state = pd.to_numeric(properties[P.blpu_state], errors="coerce")
    gone = status.isin(RETIRED_STATUS) | state.isin(RETIRED_STATE)
    return set(pd.to_numeric(properties.loc[gone, P.uprn], errors="coerce").dropna().astype("int64"))


def token_string(*parts: pd.Series) -> pd.Series:
    """Space-joined text of several normalised columns (the matcher's input side)."""
    joined = parts[0].astype(object)
    for p in parts[1:]:
        joined = joined + " " + p.astype(object)
    return joined
