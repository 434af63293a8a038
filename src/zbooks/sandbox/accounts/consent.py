"""The HTML pages of the authorization endpoint: the consent screen and the error screen.

Zoho shows a consent page (who asks, for what, as whom) with Accept and Deny, and shows
an HTML error page instead of redirecting when the client or redirect URI is wrong
(api-facts §1.2). The pages are self-contained (inline CSS, no scripts) so they work
offline and in a headless test. Every interpolated value is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from zbooks.sandbox.accounts.scopes import describe

CONSENT_PATH = "/oauth/v2/auth/consent"

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f3f5f8;
margin:0;color:#1f2933}
main{max-width:34rem;margin:4rem auto;background:#fff;border-radius:10px;
box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem 2.25rem}
h1{font-size:1.35rem;margin:0 0 .5rem}
.badge{display:inline-block;font-size:.75rem;background:#fff4e5;color:#8a5300;
border-radius:4px;padding:.1rem .45rem;margin-bottom:1rem}
ul{padding-left:1.2rem}li{margin:.35rem 0}code{font-size:.85rem;color:#52606d}
.who{color:#52606d;font-size:.9rem}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}
button{font-size:1rem;padding:.55rem 1.4rem;border-radius:6px;border:1px solid #cbd2d9;
cursor:pointer;background:#fff}
button.accept{background:#1a73e8;border-color:#1a73e8;color:#fff}
.error h1{color:#b42318}
"""


def _page(title: str, body: str, *, css_class: str = "") -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} - Zoho Accounts (zbooks sandbox)</title>"
        f"<style>{_STYLE}</style></head>"
        f'<body><main class="{css_class}">'
        '<span class="badge">zbooks sandbox - not the real Zoho Accounts</span>'
        f"{body}</main></body></html>\n"
    )


def render_consent_page(
    *, client_name: str, scopes: list[str], user_email: str, nonce: str, offline: bool
) -> str:
    """The consent screen: Accept and Deny post the one-time ``nonce`` back to the sandbox."""
    items = "".join(f"<li>{escape(describe(s))}<br><code>{escape(s)}</code></li>" for s in scopes)
    offline_note = (
        "<p>It will keep access while you are away (offline access).</p>" if offline else ""
    )
    body = (
        f"<h1>{escape(client_name)} would like to access your data</h1>"
        f'<p class="who">Signed in as <strong>{escape(user_email)}</strong></p>'
        f"<p>This application is requesting the following permissions:</p>"
        f'<ul class="scopes">{items}</ul>'
        f"{offline_note}"
        f'<form method="post" action="{CONSENT_PATH}">'
        f'<input type="hidden" name="nonce" value="{escape(nonce)}">'
        '<div class="actions">'
        '<button class="accept" type="submit" name="decision" value="accept">Accept</button>'
        '<button class="deny" type="submit" name="decision" value="deny">Deny</button>'
        "</div></form>"
    )
    return _page(f"Authorize {client_name}", body)


def render_error_page(title: str, detail: str) -> str:
    """Zoho's non-redirecting error screen (e.g. "Invalid Redirect Uri")."""
    body = f"<h1>{escape(title)}</h1><p>{escape(detail)}</p>"
    return _page(title, body, css_class="error")
