"""Plain functions behind the ``mdh gazetteer load`` and ``mdh match addresses`` commands."""

from __future__ import annotations

from pathlib import Path

from connectors.text_files import TextFileError, read_text_table
from gazetteer.errors import MatchInputError
from gazetteer.matcher import AddressMatcher
from gazetteer.model import Gazetteer
from gazetteer.readers import read_gazetteer
from schemas.columns import AddressMatchFrame as M


def gazetteer_summary(g: Gazetteer) -> dict[str, object]:
    """Counts a load reports: format, rows read/loaded/rejected, frame sizes, reject reasons."""
    return {
        "format": g.fmt,
        "rows_read": g.rows_read,
        "rows_loaded": g.rows_loaded,
        "rows_rejected": len(g.rejects),
        "reconciles": g.reconciles,
        "streets": len(g.streets),
        "properties": len(g.properties),
        "addresses": len(g.lpis),
        "deletions": len(g.deletions),
        "reject_reasons": g.rejects["reason"].value_counts().to_dict() if len(g.rejects) else {},
    }


def match_addresses_file(input_csv: Path, out_csv: Path, gazetteer_path: Path, id_col: str = "id",
                         address_col: str = "address", postcode_col: str | None = None, auto: float = 0.99,
                         review: float = 0.80) -> dict[str, int]:
    """Match every row of ``input_csv`` to a UPRN and write ``id, uprn, score, band, reason`` to ``out_csv``.

    Returns the number of rows per band.
    """
    try:
        addresses = read_text_table(Path(input_csv))
    except TextFileError as err:
        raise MatchInputError(str(err)) from err
    for col in (id_col, address_col) + ((postcode_col,) if postcode_col else ()):
        if col not in addresses.columns:
            raise MatchInputError(f"{Path(input_csv).name}: no column {col!r}")
    matcher = AddressMatcher(read_gazetteer(Path(gazetteer_path)), auto_threshold=auto, review_threshold=review)
    result = matcher.match(addresses, id_col=id_col, address_col=address_col, postcode_col=postcode_col)
    Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(out_csv, index=False)
    return {str(k): int(v) for k, v in result[M.band].value_counts().items()}
