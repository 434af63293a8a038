"""Run in a separate OS process: wait until a start time, then ask for an access token."""

from __future__ import annotations

import sys
import time

from zbooks.auth.manager import TokenManager
from zbooks.auth.oauth import OAuthClient
from zbooks.auth.tokens import FileStore


def main() -> None:
    store_path, accounts_url, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
    oauth = OAuthClient(accounts_url, "1000.CID", "client-secret")
    manager = TokenManager(
        FileStore(store_path),
        refresher=lambda token: oauth.refresh(token.refresh_token if token else ""),
    )
    while time.time() < start_at:
        time.sleep(0.001)
    print(manager.access_token())


if __name__ == "__main__":
    main()
