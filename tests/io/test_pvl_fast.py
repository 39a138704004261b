"""The fast ISIS label parser gives exactly what pvl.loads gives (pvl is the independent reference)."""

from __future__ import annotations

import pvl
import pytest

from tiepoint.io import pvl_fast
from tiepoint.io.isis_label import read_label_text


def _items(x):
    """Structure, keys, value types and values, in order (PVLModule equality ignores some of it)."""
    if hasattr(x, "items"):
        return type(x).__name__, [(k, _items(v)) for k, v in x.items()]
    if isinstance(x, list | tuple) and not hasattr(x, "units"):
        return [_items(v) for v in x]
    return type(x).__name__, x


@pytest.mark.parametrize("name", ["AS15-M-0297_crop.cub", "HiRISE_no_change_before.cub"])
def test_real_labels_match_pvl(cube_dir, name):
    text = read_label_text(cube_dir / name)
    assert _items(pvl_fast.loads(text)) == _items(pvl.loads(text))


SAMPLE = """Object = IsisCube
  /* a comment
     over two lines */
  Group = Odd
    Quoted      = "a long string that ISIS
                   wrapped onto two lines"
    Single      = 'single quoted'
    Dashed      = $base/kernels/pck/lunar_de403_1950-2199_pa.bp-
                  c
    Units       = 3396190.0 <meters>
    UnitsList   = (1.5 <m>, 2 <m>)
    Nested      = ((1, 2), (3, 4))
    Empty       = ()
    Date        = 2009-02-18
    Time        = 2009-02-18T09:56:36.299
    TimeZ       = 2009-02-18T09:56:36Z
    Clock       = 919418217:49925
    Exponent    = -1.3361854e-06
    BigExp      = 1E+5
    Hex         = 16#FF#
    Flags       = (TRUE, False, Null, N/A, "NULL")
    Neg         = -9999
    Plus        = +12
    Dollar      = "$Revision: 6715 $"
  End_Group
End_Object
Object = Table
  Name = "HiRISE Calibration Image"
  Group = Field
    Name = Calibration
    Type = Integer
    Size = 1024
  End_Group
End_Object
End
"""


def test_tricky_values_match_pvl():
    assert _items(pvl_fast.loads(SAMPLE)) == _items(pvl.loads(SAMPLE))


@pytest.mark.parametrize(
    "text",
    [
        "Object = IsisCube\n  Key =\n  Other = 1\nEnd_Object\nEnd\n",  # empty value: pvl's permissive rules
        "Object = IsisCube\n  Key = 1\nEnd_Group\nEnd\n",  # mismatched end
        "Object = IsisCube\n  Key = (1, 2\nEnd_Object\nEnd\n",  # unclosed sequence
    ],
)
def test_outside_the_subset_raises(text):
    with pytest.raises(pvl_fast.FastPVLError):
        pvl_fast.loads(text)
