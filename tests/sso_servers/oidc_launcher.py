"""Start ``oidc-provider-mock`` with its clock moved by OIDC_MOCK_CLOCK_SKEW seconds.

A provider whose clock runs ahead or behind ours is what the clock-skew tests
need, and the provider takes its times (the ID token's ``iat`` and ``exp``)
from ``time.time``: shifting that one function in its own process gives a
real provider with a wrong clock, without touching ours. The arguments are
the provider's own command line (``--port``, ``--host``...).
"""

from __future__ import annotations

import os
import time


def main() -> None:
    skew = float(os.environ.get("OIDC_MOCK_CLOCK_SKEW", "0") or 0)
    if skew:
        real_time = time.time
        time.time = lambda: real_time() + skew  # type: ignore[assignment]
    # Imported once the clock is set: nothing may have kept the real function.
    from oidc_provider_mock.__main__ import run

    run(prog_name="oidc-provider-mock")


if __name__ == "__main__":
    main()
