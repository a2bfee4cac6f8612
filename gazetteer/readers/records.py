"""Reader for record-type gazetteer CSVs: AddressBase Premium and GeoPlace DTF 7.3."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gazetteer.model import DeletionFrame, Gazetteer, SuccessorFrame
from gazetteer.readers.common import (LINE, Rejects, bad_id, blank, check_coordinates, check_postcode,
                                      finish_lpis, finish_properties, text, to_int)
from gazetteer.readers.layouts import FORMATS
from gazetteer.readers.sources import Member, members
from schemas.columns import LpiFrame as L
from schemas.columns import PropertyFrame as P
from schemas.columns import RejectFrame
from schemas.columns import StreetFrame as S



_HEADER_NAME = re.compile(r"(?:RECORD|ID)[ _-]?(\d{2})(?!\d)", re.IGNORECASE)


@dataclass
class Split:
    """A supply's lines grouped by (record identifier, comma count), with what came from where."""

    buckets: dict[tuple[str, int], tuple[list[str], list[int]]]
    rows: int  # data rows (header lines of column names excluded)
    files: list[tuple[str, int, int]]  # (member name, first global line number - 1, rows)
    headers: dict[str, list[str]]  # record type → column names from separate header files


def _bucket_lines(lines: list[str], offset: int, buckets) -> tuple[int, dict[str, int]]:
    """Add one member's lines to ``buckets`` (global 1-based line numbers); count data rows per type."""
    heads = [ln[:4] for ln in lines]
    commas = [ln.count(",") for ln in lines]
    groups = pd.DataFrame({"h": heads, "c": commas}).groupby(["h", "c"], sort=False).indices
    arr = np.array(lines, dtype=object)
    rows, per_type = 0, defaultdict(int)
    for (head, n), idx in groups.items():
        rid = head.lstrip('"').split(",", 1)[0].split('"', 1)[0].strip()
        if not rid:
            continue  # blank line
        rows += len(idx)
        per_type[rid] += len(idx)
        out_lines, out_nums = buckets[(rid, int(n))]
        out_lines.extend((arr[idx] + "\n").tolist())
        out_nums.extend((idx + 1 + offset).tolist())
    return rows, per_type


def split_by_record_type(source: Path | list[Member]) -> Split:
    """Group every member's lines by record type and comma count, one member in memory at a time.

    Lines of column names (first field ``RECORD_IDENTIFIER``, as in OS's separate header files) are
    not data: they name the fields of the record type in the file name (``Record_21_…``) or, failing
    that, of the member's own first data row.
    """
    mems = members(source) if isinstance(source, Path) else source
    buckets: dict[tuple[str, int], tuple[list[str], list[int]]] = defaultdict(lambda: ([], []))
    files, headers, rows, offset = [], {}, 0, 0
    for m in mems:
        with m.open() as f:
            lines = f.read().splitlines()
        head_lines = [ln for ln in lines[:5] if ln.lstrip('"').upper().startswith("RECORD_IDENTIFIER")]
        if head_lines:
            lines = [("" if ln in head_lines else ln) for ln in lines]  # keep line numbers
        n, per_type = _bucket_lines(lines, offset, buckets)
        for h in head_lines:
            named = _HEADER_NAME.search(Path(m.name).name)
            rtype = named.group(1) if named else (max(per_type, key=per_type.get) if per_type else None)
            if rtype:
                headers[rtype] = [c.strip().strip('"').upper() for c in next(csv.reader([h]))]
        files.append((m.name, offset, n))
        rows += n
        offset += len(lines)
        del lines
    return Split(dict(buckets), rows, files, headers)


def _true_counts(buckets, layouts) -> dict[tuple[str, int], tuple[list[str], list[int]]]:
    """Re-count fields with a CSV parser where a comma count fits no layout (quoted commas)."""
    out: dict[tuple[str, int], tuple[list[str], list[int]]] = defaultdict(lambda: ([], []))
    for (rid, commas), (lines, nums) in buckets.items():
        known = {len(lay) for lay in layouts.get(rid, [])}
        if not known or commas + 1 in known or commas + 1 > max(known):
            lines_out, nums_out = out[(rid, commas + 1)]
            lines_out.extend(lines)
            nums_out.extend(nums)
            continue
        for line, num, row in zip(lines, nums, csv.reader(lines)):
            lines_out, nums_out = out[(rid, len(row))]
            lines_out.append(line)
            nums_out.append(num)
    return dict(out)


def _read_bucket(lines: list[str], nums: list[int], n_fields: int, layouts: list[list[str]], rtype: str,
                 rejects: Rejects) -> pd.DataFrame | None:
    """Parse lines of one record type and field count, naming fields by the layout that fits."""
    lengths = sorted({len(lay): lay for lay in layouts}.items())
    fits = [lay for k, lay in lengths if k == n_fields] or [lay for k, lay in lengths if k <= n_fields][-1:]
    if not fits:
        bad = pd.DataFrame({LINE: nums})
        rejects.add(bad, pd.Series(True, index=bad.index), rtype, None, "*",
                    f"too few fields ({n_fields}, need {lengths[0][0]})")
        return None
    names = fits[0]
    raw = pd.read_csv(io.StringIO("".join(lines)), header=None, dtype=str, na_filter=False, names=range(n_fields),
                      usecols=range(len(names)), skip_blank_lines=False, skipinitialspace=True, engine="c")
    raw.columns = names
    raw[LINE] = nums
    return raw


def _deleted(df: pd.DataFrame, table: str, key_field: str, key_col: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split CHANGE_TYPE 'D' rows off into the deletion frame."""
    if "CHANGE_TYPE" not in df:
        return df, pd.DataFrame(columns=DeletionFrame.COLUMNS)
    d = df["CHANGE_TYPE"].isin(("D", "d"))
    if not d.any():
        return df, pd.DataFrame(columns=DeletionFrame.COLUMNS)
    dels = pd.DataFrame({DeletionFrame.table: table, DeletionFrame.key_column: key_col,
                         DeletionFrame.key: df.loc[d, key_field].astype(str).to_numpy(),
                         DeletionFrame.line: df.loc[d, LINE].to_numpy()})
    return df.loc[~d], dels


def _latest(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """Keep the last row per key (change-only files may insert then update)."""
    dup = df.duplicated(subset=[key], keep="last")
    return df.loc[~dup] if dup.any() else df


def read_record_csv(path: Path | list[Member], fmt: str) -> Gazetteer:
    """Read an AddressBase Premium (``fmt='abp'``) or DTF 7.3 (``fmt='dtf73'``) record-type supply.

    ``path`` is one CSV, a folder of CSV chunks or a zip of them (see :func:`members`); rows of
    every chunk are read as one supply, so counts reconcile across chunks.
    """
    split = split_by_record_type(path)
    layouts = {k: list(v) for k, v in FORMATS[fmt].items()}
    for rtype, names in split.headers.items():  # the supply's own column names come first
        layouts[rtype] = [names] + [lay for lay in layouts.get(rtype, []) if len(lay) != len(names)]
    buckets, rows_read = _true_counts(split.buckets, layouts), split.rows
    rejects = Rejects()
    parts: dict[str, list[pd.DataFrame]] = defaultdict(list)
    counts: dict[str, int] = {}
    for (rtype, n_fields), (lines, nums) in sorted(buckets.items()):
        if rtype not in layouts:
            bad = pd.DataFrame({LINE: nums})
            rejects.add(bad, pd.Series(True, index=bad.index), rtype, None, "RECORD_IDENTIFIER", "unknown record type")
            continue
        part = _read_bucket(lines, nums, n_fields, layouts[rtype], rtype, rejects)
        if part is not None:
            parts[rtype].append(part)
    del buckets
    frames = {k: (v[0] if len(v) == 1 else pd.concat(v, ignore_index=True).sort_values(LINE, kind="stable"))
              for k, v in parts.items()}
    dels: list[pd.DataFrame] = []
    empty = lambda cols: pd.DataFrame(columns=cols + [LINE])  # noqa: E731

    # Streets: 11 gives the USRN, 15 its description (English preferred).
    st11 = frames.get("11", empty(layouts["11"][-1]))
    st11 = rejects.add(st11, bad_id(st11["USRN"]), "11", "USRN", "USRN", "non-numeric USRN")
    st11, d = _deleted(st11, "street", "USRN", S.usrn); dels.append(d)
    st15 = frames.get("15", empty(layouts["15"][-1]))
    st15 = rejects.add(st15, bad_id(st15["USRN"]), "15", "USRN", "USRN", "non-numeric USRN")
    st15, d = _deleted(st15, "street_descriptor", "USRN", S.usrn); dels.append(d)
    counts["11"], counts["15"] = len(st11), len(st15)
    if "LANGUAGE" in st15:
        st15 = st15.assign(_eng=~st15["LANGUAGE"].isin(("ENG", "eng"))).sort_values("_eng", kind="stable")
    st15 = st15.drop_duplicates("USRN", keep="first")
    desc = pd.DataFrame({S.usrn: st15["USRN"].astype(str), S.street_description: text(st15["STREET_DESCRIPTION"]),
                         S.locality: text(st15["LOCALITY"]), S.town: text(st15["TOWN_NAME"]),
                         S.admin_area: text(st15["ADMINISTRATIVE_AREA"])})
    usrns = pd.DataFrame({S.usrn: pd.concat([st11["USRN"], st15["USRN"]]).astype(str).unique()})
    streets = usrns.merge(desc, on=S.usrn, how="left")
    streets[S.usrn] = pd.to_numeric(streets[S.usrn]).astype("Int64")
    streets = streets.loc[:, list(S.COLUMNS)]

    # Properties (21), classification (32), organisations (31).
    b = frames.get("21", empty(layouts["21"][-1]))
    b = rejects.add(b, bad_id(b["UPRN"]), "21", "UPRN", "UPRN", "non-numeric UPRN")
    b = rejects.add(b, bad_id(b["PARENT_UPRN"], required=False), "21", "UPRN", "PARENT_UPRN", "non-numeric parent UPRN")
    b = check_coordinates(b, "X_COORDINATE", "Y_COORDINATE", rejects, "21", "UPRN")
    pc_col = "POSTCODE_LOCATOR" if "POSTCODE_LOCATOR" in b else None
    if pc_col:
        b = check_postcode(b, pc_col, rejects, "21", "UPRN")
    b, d = _deleted(b, "property", "UPRN", P.uprn); dels.append(d)
    counts["21"] = len(b)
    b = _latest(b, "UPRN")
    props = pd.DataFrame({
        P.uprn: b["UPRN"], P.parent_uprn: b["PARENT_UPRN"],
        P.classification: text(b["BLPU_CLASS"]) if "BLPU_CLASS" in b else None,
        P.blpu_state: b["BLPU_STATE"], P.logical_status: b["LOGICAL_STATUS"],
        P.easting: b["X_COORDINATE"], P.northing: b["Y_COORDINATE"], P.latitude: None, P.longitude: None,
        P.postcode: b[pc_col] if pc_col else None,
    })
    cl = frames.get("32", empty(layouts["32"][-1]))
    cl = rejects.add(cl, bad_id(cl["UPRN"]), "32", "UPRN", "UPRN", "non-numeric UPRN")
    cl, d = _deleted(cl, "classification", "CLASS_KEY", "class_key"); dels.append(d)
    counts["32"] = len(cl)
    if len(cl):
        open_ = blank(cl["END_DATE"]) if "END_DATE" in cl else pd.Series(True, index=cl.index)
        cls = cl.loc[open_].drop_duplicates("UPRN", keep="last").set_index("UPRN")["CLASSIFICATION_CODE"]
        mapped = text(props[P.uprn].map(cls))
        props[P.classification] = mapped.where(mapped.notna(), props[P.classification])
    org = frames.get("31", empty(layouts["31"][-1]))
    org = rejects.add(org, bad_id(org["UPRN"]), "31", "UPRN", "UPRN", "non-numeric UPRN")
    org, d = _deleted(org, "organisation", "ORG_KEY", "org_key"); dels.append(d)
    counts["31"] = len(org)
    orgs = org.drop_duplicates("UPRN", keep="last").set_index("UPRN")["ORGANISATION"] if len(org) else pd.Series(dtype=object)
    if "ORGANISATION" in b and len(b):
        orgs = pd.concat([orgs, b.set_index("UPRN")["ORGANISATION"][lambda s: ~blank(s)]])
        orgs = orgs[~orgs.index.duplicated()]

    # LPIs (24) with street parts; postcode from the LPI (DTF) or the BLPU (ABP).
    lp = frames.get("24", empty(layouts["24"][-1]))
    lp = rejects.add(lp, bad_id(lp["UPRN"]), "24", "LPI_KEY", "UPRN", "non-numeric UPRN")
    lp = rejects.add(lp, blank(lp["LPI_KEY"]), "24", "UPRN", "LPI_KEY", "missing LPI key")
    lp = rejects.add(lp, bad_id(lp["USRN"], required=False), "24", "LPI_KEY", "USRN", "non-numeric USRN")
    if "POSTCODE" in lp:
        lp = check_postcode(lp, "POSTCODE", rejects, "24", "LPI_KEY")
    lp, d = _deleted(lp, "lpi", "LPI_KEY", L.lpi_key); dels.append(d)
    counts["24"] = len(lp)
    lp = _latest(lp, "LPI_KEY")
    lpis = pd.DataFrame({
        L.lpi_key: lp["LPI_KEY"].astype(str), L.uprn: lp["UPRN"], L.kind: "lpi",
        L.logical_status: lp["LOGICAL_STATUS"], L.organisation: lp["UPRN"].map(orgs) if len(orgs) else None,
        **{c: lp[c.upper()] for c in (L.sao_start_number, L.sao_start_suffix, L.sao_end_number, L.sao_end_suffix,
                                      L.sao_text, L.pao_start_number, L.pao_start_suffix, L.pao_end_number,
                                      L.pao_end_suffix, L.pao_text, L.usrn)},
    })
    st = streets.set_index(S.usrn)
    usrn = to_int(lpis[L.usrn])
    lpis[L.street_description] = usrn.map(st[S.street_description]).to_numpy()
    area = text(lp["AREA_NAME"]) if "AREA_NAME" in lp else pd.Series(None, index=lp.index, dtype=object)
    lpis[L.locality] = area.where(area.notna(), usrn.map(st[S.locality]).to_numpy())
    town = text(lp["POST_TOWN"]) if "POST_TOWN" in lp else pd.Series(None, index=lp.index, dtype=object)
    lpis[L.town] = town.where(town.notna(), usrn.map(st[S.town]).to_numpy())
    blpu_pc = props.set_index(P.uprn)[P.postcode] if len(props) else pd.Series(dtype=object)
    lpc = lp["POSTCODE"] if "POSTCODE" in lp else pd.Series(None, index=lp.index, dtype=object)
    lpis[L.postcode] = lpc.where(lpc.notna(), lp["UPRN"].map(blpu_pc)).to_numpy()
    if blpu_pc.isna().all() and "POSTCODE" in lp:  # DTF: property postcode from its approved LPI
        approved = lp.sort_values("LOGICAL_STATUS").drop_duplicates("UPRN").set_index("UPRN")["POSTCODE"]
        props[P.postcode] = props[P.uprn].map(approved)

    # PAF delivery points (28) as extra addresses of kind 'paf'.
    pf = frames.get("28", empty(layouts["28"][-1] if "28" in layouts else []))
    if len(pf):
        pf = rejects.add(pf, bad_id(pf["UPRN"]), "28", "RM_UDPRN", "UPRN", "non-numeric UPRN")
        pf = check_postcode(pf, "POSTCODE", rejects, "28", "RM_UDPRN")
        pf, d = _deleted(pf, "lpi", "RM_UDPRN", L.lpi_key); dels.append(d)
        counts["28"] = len(pf)
        num = to_int(pf["BUILDING_NUMBER"])
        paf = pd.DataFrame({
            L.lpi_key: "PAF" + pf["RM_UDPRN"].astype(str), L.uprn: pf["UPRN"], L.kind: "paf",
            L.logical_status: "1", L.organisation: pf["ORGANISATION_NAME"],
            L.sao_start_number: None, L.sao_start_suffix: None, L.sao_end_number: None, L.sao_end_suffix: None,
            L.sao_text: pf["SUB_BUILDING_NAME"], L.pao_start_number: num,
            L.pao_start_suffix: None, L.pao_end_number: None, L.pao_end_suffix: None, L.pao_text: pf["BUILDING_NAME"],
            L.usrn: None,
            L.street_description: pf["THOROUGHFARE"].where(~blank(pf["THOROUGHFARE"]), pf["DEPENDENT_THOROUGHFARE"]),
            L.locality: pf["DEPENDENT_LOCALITY"], L.town: pf["POST_TOWN"], L.postcode: pf["POSTCODE"],
        })
        lpis = pd.concat([lpis, paf], ignore_index=True)

    # Successor cross-references (30): which UPRN replaced a retired one.
    sc = frames.get("30", empty(layouts["30"][-1] if "30" in layouts else ["UPRN"]))
    successors = pd.DataFrame(columns=list(SuccessorFrame.COLUMNS))
    if len(sc) and "SUCCESSOR" in sc:
        sc = rejects.add(sc, bad_id(sc["UPRN"]), "30", "SUCC_KEY", "UPRN", "non-numeric UPRN")
        sc = rejects.add(sc, bad_id(sc["SUCCESSOR"]), "30", "SUCC_KEY", "SUCCESSOR", "non-numeric successor UPRN")
        sc, d = _deleted(sc, "successor", "SUCC_KEY", "succ_key"); dels.append(d)
        sc = _latest(sc, "SUCC_KEY")
        successors = pd.DataFrame({SuccessorFrame.uprn: to_int(sc["UPRN"]).to_numpy(),
                                   SuccessorFrame.successor_uprn: to_int(sc["SUCCESSOR"]).to_numpy(),
                                   SuccessorFrame.start_date: text(sc["START_DATE"]).to_numpy(),
                                   SuccessorFrame.end_date: text(sc["END_DATE"]).to_numpy()})
        frames["30"] = sc

    for rtype in frames.keys() - {"11", "15", "21", "24", "28", "31", "32"}:
        counts[rtype] = len(frames[rtype])
    rej = rejects.frame()
    deletions = pd.concat([x for x in dels if len(x)], ignore_index=True) if any(len(x) for x in dels) \
        else pd.DataFrame(columns=DeletionFrame.COLUMNS)
    loaded = sum(counts.values()) + len(deletions)
    if len(split.files) > 1:  # say which chunk a rejected or deleted row came from, and its line there
        rej = _locate(rej, RejectFrame.line, split.files)
        deletions = _locate(deletions, DeletionFrame.line, split.files)
    return Gazetteer(streets=streets, properties=finish_properties(props), lpis=finish_lpis(lpis), rejects=rej,
                     deletions=deletions, fmt=fmt, rows_read=rows_read, rows_loaded=loaded, counts=counts,
                     successors=successors,
                     files=pd.DataFrame(split.files, columns=["file", "offset", "rows"])[["file", "rows"]])


def _locate(df: pd.DataFrame, line_col: str, files: list[tuple[str, int, int]]) -> pd.DataFrame:
    """Turn global line numbers into (file, line within that file)."""
    if not len(df):
        return df.assign(file=pd.Series(dtype=object))
    starts = np.array([f[1] for f in files])
    glob = df[line_col].astype("int64").to_numpy()
    k = np.searchsorted(starts, glob - 1, side="right") - 1
    return df.assign(**{line_col: glob - starts[k], "file": np.array([f[0] for f in files], dtype=object)[k]})
