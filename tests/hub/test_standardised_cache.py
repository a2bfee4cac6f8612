"""The standardised-records cache beside hub.yaml: reused when it fits, and never a reason for a run to fail."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd
import pytest

from hub.standardised_cache import standardise_with_cache
from matching import standardise_people
from matching.standardise_memo import DIGEST


def records(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": [str(i) for i in range(n)], "source": "ctax",
                         "first_name": [f"Ann{i % 7}" for i in range(n)], "last_name": ["O'Brien", "MacLeod"] * (n // 2),
                         "date_of_birth": ["02/01/1980"] * n, "postcode": ["sw1a 1aa", None] * (n // 2)})


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_the_second_run_standardises_only_what_changed(folder: Path) -> None:
    recs = records()
    _, fresh = standardise_with_cache(folder, recs)
    assert fresh == 40 and len(list(folder.glob("*.parquet"))) == 1
    recs.loc[5, "last_name"] = "Smith"
    frame, fresh = standardise_with_cache(folder, recs)
    assert fresh == 1
    pd.testing.assert_frame_equal(frame.drop(columns=[DIGEST]), standardise_people(recs))


def test_an_unreadable_cache_is_a_cold_start_not_a_failure(folder: Path, caplog) -> None:
    standardise_with_cache(folder, records())
    (file,) = folder.glob("*.parquet")
    file.write_bytes(b"not parquet")
    with caplog.at_level(logging.WARNING):
        frame, fresh = standardise_with_cache(folder, records())
    assert fresh == 40 and "unreadable" in caplog.text
    assert "O'Brien" not in caplog.text and "Ann" not in caplog.text  # no personal data in the warning
    pd.testing.assert_frame_equal(frame.drop(columns=[DIGEST]), standardise_people(records()))
    _, fresh = standardise_with_cache(folder, records())  # and it was rewritten
    assert fresh == 0


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_cache_folder_that_cannot_be_written_does_not_fail_the_run(folder: Path, caplog) -> None:
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with caplog.at_level(logging.WARNING):
            _, fresh = standardise_with_cache(folder, records())
        assert fresh == 40 and "not written" in caplog.text
    finally:
        folder.chmod(0o700)


def test_a_cache_path_that_is_a_file_does_not_fail_the_run(folder: Path, caplog) -> None:
    folder.write_text("in the way")  # e.g. a file where the folder should be: mkdir fails
    with caplog.at_level(logging.WARNING):
        frame, fresh = standardise_with_cache(folder, records())
    assert fresh == 40 and "not written" in caplog.text
    assert len(frame) == 40
