"""Write the API's OpenAPI document to a file, for the portal's generated client (portal/).

`python -m centrex.web.openapi_export portal/openapi.json` — no database is touched: the document
comes from the routes alone (an in-memory SQLite engine satisfies create_app).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from centrex.api.app import create_app


def export(target: Path) -> None:
    spec = create_app("sqlite://").openapi()
    target.write_text(json.dumps(spec, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":  # pragma: no cover - the build's entry point
    export(Path(sys.argv[1] if len(sys.argv) > 1 else "portal/openapi.json"))
