"""Every module imports on its own, first: the access modules register into
booking.permissions while it loads them, so an import cycle between them would
break whichever entry point (a job, a command, a test) happens to come first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import importlib, pkgutil, sys
import booking
names = sorted(m.name for m in pkgutil.walk_packages(booking.__path__, "booking."))
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m == "booking" or m.startswith("booking.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {exc!r}")
print(len(names))
print("\\n".join(failed))
"""


def test_each_module_imports_first() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    count, *failed = done.stdout.splitlines()
    assert int(count) > 80
    assert [line for line in failed if line] == []
