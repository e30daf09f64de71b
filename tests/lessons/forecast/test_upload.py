"""The CSV upload (core/lessons/forecast/upload.py): every unusable case has its own message."""
import numpy as np
import pytest

import core.lessons.forecast as fc
from core.lessons.forecast import upload

GOOD = b'"Month","Passengers"\n"1949-01",112\n"1949-02",118\n"1949-03",132\n"1949-04",129\n'


def test_good_upload_with_dates():
    up = upload.read_upload("air.csv", GOOD)
    assert up.numeric == ["Passengers"]
    v, years, note = upload.series_from_upload(up, "Passengers", "Month")
    assert v.tolist() == [112, 118, 132, 129] and note == ""
    assert years[0] == pytest.approx(1949.0) and np.all(np.diff(years) > 0)
    fields = upload.config_fields(v, years, "Passengers")
    assert fields["custom_values"] == (112.0, 118.0, 132.0, 129.0) and fields["custom_name"] == "Passengers"
    assert len(fields["custom_x"]) == 4 and all(type(x) is float for x in fields["custom_x"])
    assert upload.summary(up, 4, "") == "4 values from “air.csv”."


def test_semicolon_upload():
    up = upload.read_upload("x.csv", b"t;value\n1;2,0\n2;3.5\n3;4\n4;5\n")
    assert "t" in up.numeric


@pytest.mark.parametrize("name, data, words", [
    ("big.csv", b"a\n" + b"1\n" * 600_000, "limit"),
    ("picture.png", b"\x89PNG\r\n", "not a CSV"),
    ("sheet.csv", b"PK\x03\x04\x00\x00binary", "binary"),
    ("empty.csv", b"   \n", "empty"),
    ("words.csv", b"name,city\nann,rome\nbob,oslo\n", "no column of numbers"),
    ("wide.csv", b",".join([b"1"] * 500) + b"\n", "columns"),
])
def test_upload_errors(name, data, words):
    with pytest.raises(upload.UploadError, match=words):
        upload.read_upload(name, data)
    err = upload.parse(name, data)                    # the page's form: the error as a value
    assert isinstance(err, upload.UploadError) and words in str(err)


def test_upload_with_nan_and_inf_offers_drop_or_interpolate():
    up = upload.read_upload("gaps.csv", b"v\n1\n2\n\n4\ninf\n6\nNaN\n8\n")
    assert upload.bad_cells(up, "v") == 3
    assert upload.bad_cells_warning("v", 3) == "“v” has 3 empty, non-numeric, NaN or infinite cells."
    with pytest.raises(upload.UploadError, match="drop those rows or to interpolate"):
        upload.series_from_upload(up, "v")
    v, _, note = upload.series_from_upload(up, "v", fix="drop")
    assert v.tolist() == [1, 2, 4, 6, 8] and "dropped 3" in note
    v, _, note = upload.series_from_upload(up, "v", fix="interpolate")
    assert v.tolist() == [1, 2, 3, 4, 5, 6, 7, 8] and "interpolated 3" in note
    assert set(upload.FIXES) == {"drop", "interpolate"}


def test_date_column_choices_and_a_column_that_is_not_dates():
    up = upload.read_upload("t.csv", b"when,v,w\nx,1,5\ny,2,6\nz,3,7\n")
    assert upload.date_options(up, "v") == [upload.NO_DATE, "when", "w"]
    v, years, note = upload.series_from_upload(up, "v", "when")
    assert years is None and "not a column of increasing dates" in note


def test_upload_too_short_for_the_window_is_a_config_error():
    up = upload.read_upload("short.csv", b"v\n1\n2\n3\n4\n5\n6\n")
    v, _, _ = upload.series_from_upload(up, "v")
    with pytest.raises(ValueError, match="too short"):
        fc.load_series(fc.ForecastConfig(source="upload", custom_values=tuple(v), look_back=3))


def test_upload_too_many_values():
    data = b"v\n" + b"1.5\n" * (fc.MAX_SERIES + 1)
    up = upload.read_upload("long.csv", data)
    with pytest.raises(upload.UploadError, match="limit"):
        upload.series_from_upload(up, "v")


def test_astronomical_values_are_refused_before_training():
    v = (1e300, 2e300) * 20
    with pytest.raises(ValueError, match="rescale"):
        fc.load_series(fc.ForecastConfig(source="upload", custom_values=v, look_back=3))
