"""Run a sandbox in its own process (``python sandbox_proc.py '<SandboxConfig JSON>'``).

The sync tests drive tens of thousands of requests; a sandbox in the test process would
share the GIL with the client and halve the throughput on two cores.
"""

from __future__ import annotations

import json
import sys

from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.server import serve

if __name__ == "__main__":
    serve(SandboxConfig(**json.loads(sys.argv[1])), keep_client_secret=True)
