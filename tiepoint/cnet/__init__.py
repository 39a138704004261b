"""ISIS3 control networks and ASP match files (placeholder docstring, completed below)."""

from tiepoint.cnet.isis import read, write
from tiepoint.cnet.model import CnetError, ControlNetwork, LogTable, NetworkHeader, Strings

__all__ = ["CnetError", "ControlNetwork", "LogTable", "NetworkHeader", "Strings", "read", "write"]
