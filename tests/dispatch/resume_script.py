"""Run as a process by test_faults: an ImageAdder that the test kills with SIGKILL mid-batch."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dispatch_jobs as dj

from tiepoint.dispatch import ImageAdder

if __name__ == "__main__":
    db_url, address, folder = sys.argv[1:4]
    ia = ImageAdder(dj.adder_config(db_url, kind="scheduler", address=address), job=dj.tiny_job)
    ia.add_images(folder, "json")
    print("queued", flush=True)
    ia.wait()
