"""Labelled gazetteer + noisy address generator rich in English and Scottish flat forms (independent of synthetic/).

Writes an AddressBase Premium CSV (current layout) and returns labelled free-text addresses
rendered the many ways residents and back-office systems write them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

FIRST = ("HIGH MILL CHURCH STATION KING QUEEN VICTORIA ALBERT PARK GREEN OAK ELM ASH BEECH MAPLE ROSE NORTH SOUTH "
         "WEST EAST MANOR SCHOOL BRIDGE CASTLE ABBEY WELL FIELD MEADOW ORCHARD WILLOW CEDAR HAWTHORN HOLLY IVY "
         "LAUREL LIME BIRCH HAZEL CHESTNUT CHERRY HEATHER THISTLE MARKET NEW OLD GEORGE WILLIAM CHARLES EDWARD "
         "DUKE PRINCES REGENT WELLINGTON NELSON CHAPEL FORGE WATER BROOK RIVER LAKE HILL VALLEY MOSS HEATH "
         "FERN ALDER ROWAN SPRING SUMMER WINTER HARBOUR DOCK CANAL MILLBANK BANK").split()
SAINTS = ("SAINT JOHNS", "SAINT MARYS", "SAINT ANDREWS", "SAINT PETERS", "SAINT GEORGES", "SAINT MARGARETS")
TYPES = ("ROAD STREET AVENUE LANE CLOSE CRESCENT GARDENS DRIVE PLACE TERRACE WAY GROVE SQUARE").split()
ABBREV = {"ROAD": "RD", "STREET": "ST", "AVENUE": "AVE", "LANE": "LN", "CLOSE": "CL", "CRESCENT": "CRES",
          "GARDENS": "GDNS", "DRIVE": "DR", "PLACE": "PL", "TERRACE": "TERR", "SQUARE": "SQ", "GROVE": "GRO"}
HOUSE_NAMES = ("ROSE COTTAGE", "THE OLD RECTORY", "IVY HOUSE", "THE LODGE", "MEADOW VIEW", "OAK LEA", "THE BARN",
               "HILLCREST", "WILLOW END", "THE GABLES", "ORCHARD HOUSE", "BRAMBLE COTTAGE", "FERN BANK")
BLOCK_NAMES = ("VICTORIA HOUSE", "ALBERT COURT", "RIVERSIDE MANSIONS", "PARK VIEW", "QUEENS COURT", "REGENT HOUSE",
               "WELLINGTON HEIGHTS", "CASTLE WHARF", "ABBEY LOFTS", "MILL BUILDINGS")
ORGS = ("ACME WIDGETS LTD", "CORNER STORES", "SMITH AND SONS SOLICITORS", "THE RED LION", "HIGH STREET PHARMACY",
        "NORTHERN BANK PLC", "CITY CAFE", "PARKSIDE SURGERY")
ENG_TOWNS = [("LEEDS", "LS", ("HEADINGLEY", "CHAPEL ALLERTON", "ARMLEY", "")), ("BRADFORD", "BD", ("SHIPLEY", "")),
             ("YORK", "YO", ("ACOMB", "")), ("BATH", "BA", ("WIDCOMBE", "")), ("KINGSTON UPON THAMES", "KT", ("SURBITON", ""))]
SCO_TOWNS = [("GLASGOW", "G", ("PARTICK", "DENNISTOUN", "")), ("EDINBURGH", "EH", ("LEITH", "MORNINGSIDE", "")),
             ("DUNDEE", "DD", ("BROUGHTY FERRY", ""))]
FLOOR_NAMES = ("BASEMENT FLAT", "GROUND FLOOR FLAT", "FIRST FLOOR FLAT", "SECOND FLOOR FLAT", "THIRD FLOOR FLAT")
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass
class GenSettings:
    """Shape of a generated gazetteer."""

    streets: int = 400
    seed: int = 1
    scottish_share: float = 0.4
    flat_share: float = 0.45  # share of buildings split into flats
    holdout_share: float = 0.01  # properties kept out of the gazetteer (true answer: no match)


def _lpi(uprn, key, status, sao_num="", sao_suf="", sao_text="", pao_num="", pao_suf="", pao_end="", pao_text="", usrn=""):
    return dict(uprn=uprn, lpi_key=key, status=status, sao_num=sao_num, sao_suf=sao_suf, sao_text=sao_text,
                pao_num=pao_num, pao_suf=pao_suf, pao_end=pao_end, pao_text=pao_text, usrn=usrn)


def generate(s: GenSettings) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return (streets, properties, lpis) frames of a labelled gazetteer."""
    rng = np.random.default_rng(s.seed)
    streets, props, lpis = [], [], []
    uprn = 10_000_000 + s.seed * 10_000_000
    lpi_n = 0
    usrn0 = 8_000_000 + s.seed * 100_000
    seen: dict[tuple[str, str], set[str]] = {}
    for k in range(s.streets):
        scot = rng.random() < s.scottish_share
        town, area, locs = (SCO_TOWNS if scot else ENG_TOWNS)[rng.integers(3 if scot else 5)]
        # Street names are unique within a town unless a dependent locality tells them apart
        # (Royal Mail / GeoPlace naming rules): redraw a name that would make two identical addresses.
        for _ in range(50):
            name = (SAINTS[rng.integers(len(SAINTS))] if rng.random() < 0.08 else FIRST[rng.integers(len(FIRST))])
            street = f"{name} {TYPES[rng.integers(len(TYPES))]}"
            locality = locs[rng.integers(len(locs))]
            used = seen.setdefault((street, town), set())
            if not used or (locality and "" not in used and locality not in used):
                break
        used.add(locality)
        usrn = usrn0 + k
        district = f"{area}{rng.integers(1, 30)}"
        sector = f"{district} {rng.integers(1, 10)}"
        streets.append(dict(usrn=usrn, street=street, locality=locality, town=town))
        n_build = int(rng.integers(4, 40))
        pcs = [f"{sector}{INWARD_LETTERS[rng.integers(20)]}{INWARD_LETTERS[rng.integers(20)]}" for _ in range(max(1, n_build // 8))]
        e0, n0 = (rng.integers(250000, 340000), rng.integers(650000, 700000)) if scot else (rng.integers(400000, 450000), rng.integers(150000, 450000))
        number = 1
        names = list(rng.permutation(HOUSE_NAMES + BLOCK_NAMES))  # a name is used once per street
        for b in range(n_build):
            pc = pcs[min(b // 8, len(pcs) - 1)]
            uprn += 1
            bu = uprn
            kind = rng.random()
            pao_num, pao_suf, pao_end, pao_text, org = str(number), "", "", "", ""
            if kind < 0.05:
                pao_num, pao_text = "", (names.pop() if names else "")
                if not pao_text:
                    pao_num = str(number)
            elif kind < 0.10:
                pao_end, org = str(number + 2), ORGS[rng.integers(len(ORGS))]
                number += 2
            elif kind < 0.14:
                pao_suf = "A"
            elif kind < 0.20:
                pao_text = names.pop() if names else ""
                if rng.random() < 0.4 and pao_text:
                    pao_num = ""
            number += 1 if rng.random() < 0.3 else 2
            x, y = e0 + b * 7, n0 + b * 5
            flats = rng.random() < s.flat_share and not org
            props.append(dict(uprn=bu, parent="", x=x, y=y, pc=pc, cls="PP" if flats else ("CR01" if org else "RD03"), org=org))
            lpi_n += 1
            lpis.append(_lpi(bu, f"L{lpi_n}", 1, pao_num=pao_num, pao_suf=pao_suf, pao_end=pao_end, pao_text=pao_text, usrn=usrn))
            if rng.random() < 0.04 and pao_num and names:  # historical: the house had a name
                lpi_n += 1
                lpis.append(_lpi(bu, f"L{lpi_n}", 8, pao_text=names.pop(), usrn=usrn))
            if not flats:
                continue
            n_flats = int(rng.integers(2, 9))
            style = rng.integers(6) if scot else rng.integers(5)
            per_floor = int(rng.integers(1, 4))
            for f in range(n_flats):
                uprn += 1
                sao_num = sao_suf = sao_text = ""
                floor, pos = f // per_floor, f % per_floor + 1
                if scot and style in (0, 1, 2):
                    sao_text = f"FLAT {floor}/{pos}" if style == 0 else (f"{floor}/{pos}" if style == 1 else "")
                    if style == 2:
                        sao_text = f"{'G' if floor == 0 else floor}F{pos}"
                elif scot and style == 3:
                    sao_text = f"{floor}F{pos}" if floor else f"GF{pos}"
                else:
                    st = style % 5
                    if st == 0:
                        sao_text = f"FLAT {f + 1}"
                    elif st == 1:
                        sao_num = str(f + 1)
                    elif st == 2:
                        sao_text = f"FLAT {'ABCDEFGHIJ'[f]}"
                    elif st == 3 and n_flats <= 5:
                        sao_text = FLOOR_NAMES[f]
                    else:
                        sao_text = f"APARTMENT {f + 1}"
                props.append(dict(uprn=uprn, parent=bu, x=x, y=y, pc=pc, cls="RD06", org=""))
                lpi_n += 1
                lpis.append(_lpi(uprn, f"L{lpi_n}", 1, sao_num=sao_num, sao_suf=sao_suf, sao_text=sao_text,
                                 pao_num=pao_num, pao_suf=pao_suf, pao_end=pao_end, pao_text=pao_text, usrn=usrn))
                if rng.random() < 0.05:  # alternative form of the same flat
                    lpi_n += 1
                    alt = f"FLAT {f + 1}" if not scot else f"FLAT {floor}/{pos}"
                    lpis.append(_lpi(uprn, f"L{lpi_n}", 3, sao_text=alt, pao_num=pao_num, pao_suf=pao_suf,
                                     pao_end=pao_end, pao_text=pao_text, usrn=usrn))
    st = pd.DataFrame(streets)
    pr = pd.DataFrame(props)
    lp = pd.DataFrame(lpis)
    pr["holdout"] = (rng.random(len(pr)) < s.holdout_share) & (pr["cls"] != "PP")
    return st, pr, lp


def write_abp(path: Path, streets: pd.DataFrame, props: pd.DataFrame, lpis: pd.DataFrame, *, extras: bool = False) -> None:
    """Write the gazetteer as an AddressBase Premium CSV (current layout, full supply).

    ``extras`` adds what a real supply also carries: an application cross-reference (23) per
    property and a PAF delivery point (28) per addressable property, as in a city-sized load test.
    """
    keep = set(props.loc[~props["holdout"], "uprn"])
    pcs = dict(zip(props["uprn"], props["pc"])) if extras else {}
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        w.writerow([10, "OS AddressBase Premium", 9999, "2026-11-01", 1, "2026-11-01", "00:00:00", "1.0", "F"])
        for r in streets.itertuples():
            w.writerow([11, "I", 1, r.usrn, 1, 9999, 2, "2000-01-01", 1, 8, 1, "2000-01-01", "", "2020-01-01", "2000-01-01",
                        0, 0, 0, 0, 0, 0, 0, 0, 10])
            w.writerow([15, "I", 1, r.usrn, r.street, r.locality, r.town, r.town, "ENG", "2000-01-01", "", "2020-01-01", "2000-01-01"])
        for r in props.itertuples():
            if r.uprn not in keep:
                continue
            w.writerow([21, "I", 1, r.uprn, 1, 2, "2000-01-01", r.parent, r.x, r.y, "", "", 1, 9999, "E", "2000-01-01", "",
                        "2020-01-01", "2000-01-01", "D", r.pc, 0])
            w.writerow([32, "I", 1, r.uprn, f"C{r.uprn}", r.cls, "AddressBase Premium Classification Scheme", 1.0,
                        "2000-01-01", "", "2020-01-01", "2000-01-01"])
            if r.org:
                w.writerow([31, "I", 1, r.uprn, f"O{r.uprn}", r.org, "", "2000-01-01", "", "2020-01-01", "2000-01-01"])
            if extras:
                w.writerow([23, "I", 1, r.uprn, f"X{r.uprn}", f"osgb{r.uprn}", 1, "7666MT", "2000-01-01", "", "2020-01-01", "2000-01-01"])
        for r in lpis.itertuples():
            if r.uprn not in keep:
                continue
            w.writerow([24, "I", 1, r.uprn, r.lpi_key, "ENG", r.status, "2000-01-01", "", "2020-01-01", "2000-01-01",
                        r.sao_num, r.sao_suf, "", "", r.sao_text, r.pao_num, r.pao_suf, r.pao_end, "", r.pao_text,
                        r.usrn, 1, "", "", "Y"])
            if extras and r.status == 1:
                w.writerow([28, "I", 1, r.uprn, "", r.uprn, "", "", r.sao_text or r.sao_num, r.pao_text, r.pao_num,
                            "", "", "", "", "TOWN", pcs.get(r.uprn, ""), "S", "1A", "", "", "", "", "", "",
                            "2026-01-01", "2000-01-01", "", "2020-01-01", "2000-01-01"])
        w.writerow([99, 0, 0, "2026-11-01", "00:00:00"])


def _case(rng, s: str) -> str:
    r = rng.random()
    return s.title() if r < 0.5 else (s.lower() if r < 0.6 else s)


def _typo(rng, s: str) -> str:
    if len(s) < 5:
        return s
    k = int(rng.integers(1, len(s) - 2))
    r = rng.random()
    if r < 0.4:
        return s[:k] + s[k + 1:]
    if r < 0.7:
        return s[:k] + s[k + 1] + s[k] + s[k + 2:]
    return s[:k] + s[k] + s[k:]


def _flat_form(rng, lpi, pao_plain: str) -> tuple[str, str | None]:
    """(written flat, override for the whole number part or None)."""
    text, num = lpi.sao_text, lpi.sao_num
    if num:
        text = f"FLAT {num}"
    if not text:
        return "", None
    r = rng.random()
    import re
    m = re.fullmatch(r"(?:FLAT )?([0-9]+|G)(?:/|F)([0-9]+)", text) or re.fullmatch(r"GF([0-9]+)", text)
    if m:  # Scottish floor/position
        if text.startswith("GF") and m.lastindex == 1:
            floor, pos = "0", m.group(1)
        else:
            floor, pos = ("0" if m.group(1) == "G" else m.group(1)), m.group(2)
        if r < 0.1 and pao_plain.isdigit():  # Glasgow compact form "1/1/1 CHURCH STREET": flat 1/1 at 1
            return "", f"{floor}/{pos}/{pao_plain}"
        forms = [f"FLAT {floor}/{pos}", f"{floor}/{pos}", f"{'G' if floor == '0' else floor}F{pos}",
                 f"{'G' if floor == '0' else floor}/{pos}"]
        return forms[int(rng.integers(len(forms)))], None
    m = re.fullmatch(r"(?:FLAT|APARTMENT) ([0-9]+)", text)
    if m:
        n = m.group(1)
        if r < 0.15 and pao_plain.isdigit():
            return "", f"{n}/{pao_plain}"
        forms = [f"FLAT {n}", f"{n}", f"APARTMENT {n}", f"APT {n}", f"FLAT {n}"]
        return forms[int(rng.integers(len(forms)))], None
    m = re.fullmatch(r"FLAT ([A-J])", text)
    if m:
        if r < 0.2 and pao_plain.isdigit():
            return "", f"{pao_plain}{m.group(1)}"
        return f"FLAT {m.group(1)}", None
    if "FLOOR" in text or "BASEMENT" in text:
        return (text.replace("FIRST", "1ST").replace("SECOND", "2ND") if r < 0.3 else text), None
    return text, None


def render(props: pd.DataFrame, lpis: pd.DataFrame, streets: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` labelled free-text addresses (``id, address, truth_uprn, in_gazetteer``)."""
    rng = np.random.default_rng(seed)
    st = streets.set_index("usrn")
    pr = props.set_index("uprn")
    addressable = props.loc[props["cls"] != "PP", "uprn"].to_numpy()
    by_uprn = {u: g for u, g in lpis.groupby("uprn")}
    pcs_by_sector: dict[str, list[str]] = {}
    for pc in props["pc"].unique():
        pcs_by_sector.setdefault(pc[:-2], []).append(pc)
    rows = []
    for k in range(n):
        u = addressable[rng.integers(len(addressable))]
        g = by_uprn[u]
        other = g[g["status"] != 1]
        lpi = (other.iloc[rng.integers(len(other))] if len(other) and rng.random() < 0.3 else g[g["status"] == 1].iloc[0])
        p = pr.loc[u]
        s = st.loc[lpi["usrn"]]
        street = s["street"]
        if rng.random() < 0.4:
            w = street.split()
            street = " ".join(w[:-1] + [ABBREV.get(w[-1], w[-1])])
        if rng.random() < 0.2 and street.startswith("SAINT "):
            street = "ST " + street[6:]
        if rng.random() < 0.05:
            street = _typo(rng, street)
        pao = lpi["pao_num"] + (("" if rng.random() < 0.5 else " ") + lpi["pao_suf"] if lpi["pao_suf"] else "")
        if lpi["pao_end"]:
            pao = f"{lpi['pao_num']}-{lpi['pao_end']}" if rng.random() < 0.7 else lpi["pao_num"]
        flat, override = _flat_form(rng, lpi, lpi["pao_num"] if not lpi["pao_suf"] and not lpi["pao_end"] else "")
        if override:
            pao = override
        parts = []
        if p["org"] and rng.random() < 0.6:
            parts.append(p["org"])
        trailing_flat = flat and rng.random() < 0.1
        if flat and not trailing_flat:
            parts.append(flat)
        if lpi["pao_text"] and (not lpi["pao_num"] or rng.random() < 0.8):
            parts.append(lpi["pao_text"])
        parts.append(f"{pao} {street}".strip())
        if s["locality"] and rng.random() < 0.5:
            parts.append(s["locality"])
        if rng.random() < 0.85:
            parts.append(s["town"])
            if rng.random() < 0.05:
                parts.append(s["town"])
        pc = p["pc"]
        r = rng.random()
        if r < 0.08:
            parts.append(pc.replace(" ", ""))
        elif r < 0.18:
            pass
        elif r < 0.23:  # wrong postcode: a neighbour in the sector, or a slip in the sector digit
            sib = [x for x in pcs_by_sector[pc[:-2]] if x != pc]
            if sib and rng.random() < 0.5:
                parts.append(sib[rng.integers(len(sib))])
            else:
                digit = str((int(pc[-3]) + int(rng.integers(1, 9))) % 10)
                parts.append(pc[:-3] + digit + pc[-2:])
        else:
            parts.append(pc)
        if trailing_flat:
            parts.insert(len(parts) - 1, flat)
        sep = ", " if rng.random() < 0.7 else " "
        rows.append(dict(id=k, address=_case(rng, sep.join(parts)), truth_uprn=int(u), in_gazetteer=not p["holdout"],
                         parent_uprn=int(p["parent"]) if p["parent"] != "" else -1))
    return pd.DataFrame(rows)


def write_set(out_dir: Path, s: GenSettings, n: int) -> tuple[Path, pd.DataFrame]:
    """Write ``gazetteer.csv`` (ABP) and return it with ``n`` labelled addresses."""
    out_dir.mkdir(parents=True, exist_ok=True)
    streets, props, lpis = generate(s)
    path = out_dir / "gazetteer.csv"
    write_abp(path, streets, props, lpis)
    labelled = render(props, lpis, streets, n, seed=s.seed + 1000)
    return path, labelled
