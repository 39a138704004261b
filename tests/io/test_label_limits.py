"""Hostile labels and paths: every failure of open_image is an ImageError naming the file and the problem
in plain words, never a bare RecursionError / IndexError / OverflowError, and nothing blocks."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pvl
import pytest
import rasterio

from tiepoint.errors import ImageError, TiepointError
from tiepoint.io import ImageNotFoundError, open_image, pvl_fast, write_cube


def _nested(depth: int, head: str = "") -> str:
    return "Object = IsisCube\n" + head + "Group = G\n" * depth + "End_Group\n" * depth + "End_Object\nEnd\n"


def test_label_with_50000_nested_groups(tmp_path):
    path = tmp_path / "deep.cub"
    path.write_text(_nested(50_000))
    with pytest.raises(ImageError) as err:
        open_image(path)
    assert err.value.path == str(path)
    assert "not an ISIS label" in str(err.value) and "nest more than" in str(err.value)


def test_deep_nesting_in_the_pvl_fallback(tmp_path):
    """An empty value sends the label to pvl.loads, which recurses once per block."""
    path = tmp_path / "deep2.cub"
    path.write_text(_nested(3000, head="Key =\nOther = 1\n"))
    with pytest.raises(pvl_fast.FastPVLError):
        pvl_fast.loads(path.read_text())
    with pytest.raises(ImageError, match="nest too deeply") as err:
        open_image(path)
    assert err.value.path == str(path)


def test_nesting_up_to_the_limit_parses_as_pvl_does():
    text = _nested(pvl_fast.MAX_DEPTH - 1).replace("Group = G\n", "Group = G\nK = 1\n")
    assert pvl_fast.loads(text) == pvl.loads(text)
    with pytest.raises(pvl_fast.PVLDepthError):
        pvl_fast.loads(_nested(pvl_fast.MAX_DEPTH + 1))


def _with_line(path, after: str, line: str) -> None:
    raw = path.read_bytes()
    assert after.encode() in raw
    path.write_bytes(raw.replace(after.encode(), (after + line).encode(), 1))


@pytest.mark.parametrize("key", ["^Core", "^DnFile"])
def test_pointer_that_names_no_file(tmp_path, key):
    path = write_cube(tmp_path / "p.cub", np.zeros((4, 4), np.int16))
    _with_line(path, "  Object = Core\n", f"    {key} = ()\n")
    with pytest.raises(ImageError, match=re.escape(f"{key} pointer [] does not name a file")) as err:
        open_image(path)
    assert err.value.path == str(path)


def test_blob_pointer_and_sizes_that_lie(tmp_path):
    path = write_cube(tmp_path / "b.cub", np.zeros((4, 4), np.int16), csm_state='{"a": 1}')
    good = path.read_bytes()
    for key in ("Bytes      = 8", "StartByte  = "):
        raw = good
        start = raw.index(key.encode(), raw.index(b"Name       = CSMState"))
        end = raw.index(b"\n", start)
        path.write_bytes(raw[:start] + (key.split("=")[0] + "= 99999999999999999999").encode() + raw[end:])
        with open_image(path) as img, pytest.raises(ImageError, match=r"CSMState.*says") as err:
            img.csm_state()
        assert err.value.path == str(path)
    path.write_bytes(good)
    _with_line(path, "  Name       = CSMState\n", "  ^String = ()\n")
    with pytest.raises(ImageError, match=r"pointer .* does not name a file"):
        open_image(path)


def _blocked(signum, frame):
    raise TimeoutError("open_image blocked on a named pipe")


def test_paths_that_are_not_files(tmp_path):
    fifo = tmp_path / "pipe.cub"
    os.mkfifo(fifo)  # open() would block until a writer comes
    previous = signal.signal(signal.SIGALRM, _blocked)
    signal.alarm(5)
    try:
        with pytest.raises(ImageNotFoundError, match="is a named pipe") as err:
            open_image(fifo)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert err.value.path == str(fifo)
    loop = tmp_path / "loop.cub"
    os.symlink(loop, loop)
    with pytest.raises(ImageNotFoundError, match="is a symbolic link loop"):
        open_image(loop)
    dangling = tmp_path / "dangling.cub"
    os.symlink(tmp_path / "gone.cub", dangling)
    with pytest.raises(ImageNotFoundError, match="is a broken symbolic link"):
        open_image(dangling)
    with pytest.raises(ImageNotFoundError, match="is a directory"):
        open_image(tmp_path)


_OPEN_IMAGE = """
import sys
from tiepoint.errors import ImageError
from tiepoint.io import open_image
try:
    open_image(sys.argv[1])
except ImageError as exc:
    print(type(exc).__name__, exc.path, exc.message, sep="|")
"""


def test_unreadable_image(tmp_path):
    """An image the process may not read. Root reads any file, so as root the check runs in a child
    process without the capabilities that bypass file permissions (util-linux ``setpriv``): the test
    runs everywhere, CI included."""
    path = write_cube(tmp_path / "secret.cub", np.zeros((4, 4), np.int16))
    path.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(ImageError, match="cannot open the image: Permission denied") as err:
            open_image(path)
        assert err.value.path == str(path)
        return
    setpriv = shutil.which("setpriv")
    assert setpriv, "util-linux setpriv is needed to drop root's file-permission override"
    no_override = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    done = subprocess.run(
        [*no_override, sys.executable, "-c", _OPEN_IMAGE, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ImageError|{path}|cannot open the image: Permission denied"


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # rasterio's log_error hook
def test_damaged_pds4_label_through_gdal(tmp_path):
    """A non-UTF-8 byte in a PDS4 label makes GDAL's error message undecodable: rasterio then raises a
    bare UnicodeDecodeError. Every single-byte damage around that spot must be a TiepointError."""
    good = tmp_path / "good.xml"
    with rasterio.open(good, "w", driver="PDS4", width=8, height=8, count=1, dtype="uint8") as ds:
        ds.write(np.zeros((8, 8), np.uint8), 1)
    raw = good.read_bytes()
    start = raw.index(b"<disp:Display_Settings>")
    path = tmp_path / "damaged.xml"
    unexpected = []
    for pos in range(start, start + 64):
        path.write_bytes(raw[:pos] + b"\xbb" + raw[pos + 1 :])
        try:
            with open_image(path) as img:
                img.read()
        except TiepointError as err:
            if err.path != str(path):
                unexpected.append((pos, str(err)))
        except Exception as err:
            unexpected.append((pos, f"{type(err).__name__}: {err}"))
    assert not unexpected, unexpected[:5]
