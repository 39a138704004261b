"""Bad input raises a tiepoint error that names the file and what is wrong."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tiepoint.errors import ImageError, UnsupportedFormatError
from tiepoint.io import ImageNotFoundError, open_image, write_cube


@pytest.fixture
def cube(tmp_path):
    return write_cube(tmp_path / "good.cub", np.arange(40 * 50, dtype=np.int16).reshape(40, 50), tile_size=16)


def _edit_label(path, old: str, new: str):
    raw = path.read_bytes()
    assert old.encode() in raw
    assert len(new) <= len(old)  # keep every byte offset
    path.write_bytes(raw.replace(old.encode(), new.encode().ljust(len(old)), 1))


def test_truncated_cube(cube):
    size = cube.stat().st_size
    with open(cube, "r+b") as f:
        f.truncate(size - 1000)
    with pytest.raises(ImageError) as err:
        open_image(cube)
    msg = str(err.value)
    assert str(cube) in msg and "40 lines x 50 samples" in msg and "SignedWord" in msg
    # 3 x 4 tiles of 16 x 16 SignedWord = 6144 bytes of data, 5144 left
    assert "6144 bytes from byte 65537" in msg and "only 5144 bytes" in msg


def test_label_lies_about_sizes(cube):
    _edit_label(cube, "Lines   = 40", "Lines   = 90")  # 6 x 4 tiles of 16 x 16 x 2 bytes needed
    with pytest.raises(ImageError, match=r"90 lines x 50 samples.*\(12288 bytes .*only 6144 bytes") as err:
        open_image(cube)
    assert err.value.path == str(cube)


@pytest.mark.parametrize("ptype", ["Double", "Complex", "SignedByte"])
def test_unknown_pixel_type(cube, ptype):
    _edit_label(cube, "Type       = SignedWord", f"Type       = {ptype}")
    with pytest.raises(UnsupportedFormatError, match=f"unsupported pixel type '{ptype}'") as err:
        open_image(cube)
    assert err.value.path == str(cube)


def test_missing_keyword_and_bad_values(cube, tmp_path):
    _edit_label(cube, "TileLines", "Tilelinez")
    with pytest.raises(ImageError, match="no IsisCube/Core/TileLines"):
        open_image(cube)
    other = write_cube(tmp_path / "o.cub", np.zeros((4, 4), np.int16))
    _edit_label(other, "ByteOrder  = Lsb", "ByteOrder  = Vax")
    with pytest.raises(UnsupportedFormatError, match="ByteOrder 'Vax'"):
        open_image(other)


def test_missing_detached_data_file(tmp_path):
    lbl = write_cube(tmp_path / "d.lbl", np.zeros((8, 8), np.uint8), pixel_type="UnsignedByte", detached=True)
    (tmp_path / "d.cub").unlink()
    with pytest.raises(
        ImageError, match=r"detached data file .*d\.cub named by \^Core does not exist"
    ) as err:
        open_image(lbl)
    assert err.value.path == str(lbl)


def test_label_without_end(tmp_path):
    path = tmp_path / "noend.cub"
    path.write_bytes(b"Object = IsisCube\n  Object = Core\n" + b"\0" * 100)
    with pytest.raises(ImageError, match="no 'End' line"):
        open_image(path)


def test_label_not_pvl(tmp_path):
    path = tmp_path / "bad.cub"
    path.write_bytes(b"Object = IsisCube\n  Object = Core\n  = = (\nEnd\n")
    with pytest.raises(ImageError, match="not valid PVL") as err:
        open_image(path)
    assert err.value.path == str(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImageNotFoundError, match="does not exist"):
        open_image(tmp_path / "nope.cub")
    with pytest.raises(FileNotFoundError) as err:  # also an OSError for callers who expect one
        open_image(tmp_path / "nope.cub")
    again = pickle.loads(pickle.dumps(err.value))  # Dask ships errors between processes
    assert type(again) is ImageNotFoundError and again.path == str(tmp_path / "nope.cub")


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, not an image\n")
    with pytest.raises(UnsupportedFormatError, match="not an image format") as err:
        open_image(path)
    assert err.value.path == str(path)


def test_truncated_blob(tmp_path):
    import shapely

    poly = shapely.box(0, 0, 1, 1)
    path = write_cube(tmp_path / "b.cub", np.zeros((4, 4), np.float32), pixel_type="Real", polygon=poly)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 5)
    with open_image(path) as img:  # the pixels are intact
        assert img.read().shape == (4, 4)
        with pytest.raises(ImageError, match=r"Polygon blob 'Footprint' says .* bytes"):
            img.footprint_blob()
        with pytest.raises(ImageError, match="no Table named 'Nope'"):
            img.table("Nope")


@pytest.mark.parametrize(
    "window", [((0, 41), (0, 5)), ((5, 5), (0, 5)), ((-1, 3), (0, 5)), "rows 0-3", ((0, 3),)]
)
def test_bad_windows(cube, window):
    with open_image(cube) as img, pytest.raises(ValueError, match=str(cube)):
        img.read(window)


def test_writer_rejects_bad_arguments(tmp_path):
    data = np.zeros((4, 4))
    with pytest.raises(UnsupportedFormatError, match="Double"):
        write_cube(tmp_path / "x.cub", data, pixel_type="Double")
    with pytest.raises(ValueError, match="integer pixel types only"):
        write_cube(tmp_path / "x.cub", data, pixel_type="Real", multiplier=2.0)
    with pytest.raises(ValueError, match="byte_order"):
        write_cube(tmp_path / "x.cub", data, byte_order="Big")


def test_file_truncated_after_open(cube):
    with open_image(cube) as img:
        img.read()
        with open(cube, "r+b") as f:
            f.truncate(70000)
        with pytest.raises(ImageError, match="shrank"):
            img.read()


def test_writer_rejects_bad_label_extra(tmp_path):
    data = np.zeros((4, 4), np.int16)
    with pytest.raises(ValueError, match="not a valid PVL keyword"):
        write_cube(tmp_path / "k.cub", data, label_extra={"Instrument": {"Target Name": "Mars"}})
    with pytest.raises(ValueError, match="must be a mapping"):
        write_cube(tmp_path / "k.cub", data, label_extra={"Instrument": "Mars"})
