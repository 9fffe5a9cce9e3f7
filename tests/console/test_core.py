"""The console's core: roles, sessions, CSRF, security headers, the audit log page."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from rallybot.handlers.console.kit import COOKIE, Role, Viewer, audit
from rallybot.handlers.console.security import MAX_BODY
from rallybot.handlers.console.sessions import create_sign_in
from rallybot.storage.audit_models import AuditEntry
from tests.console.conftest import HELPER, MANAGER, MEMBER, ConsoleClient, ConsoleEnv, sign_in

HEADERS = {
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
}


def _assert_secure_headers(response: httpx.Response) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_not_signed_in_goes_to_the_sign_in_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/audit")
    assert response.status_code == 303
    assert response.headers["location"].startswith("https://testserver/console/signin?next=")
    page = await client.get(response.headers["location"])
    assert page.status_code == 200
    assert "Sign in" in page.text
    api = await client.get("/api/audit")
    assert api.status_code == 401


async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, as_manager: ConsoleClient
) -> None:
    responses = [
        await client.get("/signin"),
        await client.get("/audit"),  # a redirect
        await client.get("/nowhere"),  # a 404
        await client.get("/static/htmx.min.js"),
        await client.get("/api/openapi.json"),
        await client.post("/api/audit"),  # 403 (CSRF) before 405
        await as_manager.get("/audit"),
        await as_manager.get("/api/audit"),
    ]
    for response in responses:
        _assert_secure_headers(response)
    assert responses[2].status_code == 404


async def test_a_manager_sees_the_audit_log_paged(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    async with console.db.session() as session:
        for n in range(60):
            session.add(
                AuditEntry(
                    at=console.clock.now() + timedelta(minutes=n),
                    actor=MANAGER if n % 2 else "discord:42",
                    action="send",
                    target=f"connect-launch/step-{n}",
                )
            )
    page = await as_manager.get("/audit")
    assert page.status_code == 200, page.text
    assert "Morgan Manager" in page.text and "discord:42" in page.text
    assert "connect-launch/step-59" in page.text and "connect-launch/step-9<" not in page.text
    api = (await as_manager.get("/api/audit", params={"limit": 50})).json()
    assert [e["target"] for e in api["entries"]][:2] == [
        "connect-launch/step-59",
        "connect-launch/step-58",
    ]
    assert api["entries"][0]["actor_name"] == "Morgan Manager"
    rest = (await as_manager.get("/api/audit", params={"before": api["next_before"]})).json()
    assert len(rest["entries"]) == 10 and rest["next_before"] is None
    older = await as_manager.get("/audit", params={"before": api["next_before"]})
    assert "connect-launch/step-0<" in older.text


async def test_roles(
    as_manager: ConsoleClient, as_helper: ConsoleClient, as_member: ConsoleClient
) -> None:
    assert (await as_manager.get("/api/audit")).status_code == 200
    helper = await as_helper.get("/audit")
    assert helper.status_code == 403
    assert "community managers only" in helper.text
    assert (await as_helper.get("/api/audit")).status_code == 403
    member = await as_member.get("/audit")
    assert member.status_code == 403
    # Mel's locale is French: the refusal says who she is and why, in her language
    assert "Mel Member" in member.text and "réservée aux community managers" in member.text
    assert (await as_member.get("/api/audit")).status_code == 403
    home = await as_member.get("/")
    assert home.status_code == 403


async def test_the_menu_says_the_current_page(as_manager: ConsoleClient) -> None:
    """The navigation's button (a phone's menu) names the page it is on, by words a screen
    reader says too; on a page outside the navigation (an error) it says "Menu" alone."""

    def button(html: str) -> str:
        found = re.search(r"<summary[^>]*>.*?</summary>", html, re.DOTALL)
        assert found, html
        return " ".join(found.group().split())

    audit = await as_manager.get("/audit")
    assert button(audit.text) == (
        '<summary aria-label="Menu, current page: Audit log"> <span class="menu-word">Menu</span>'
        ' <span class="menu-here">Audit log</span> </summary>'
    )
    assert '<a href="https://testserver/console/audit" aria-current="page">' in audit.text
    nowhere = await as_manager.get("/nowhere")
    assert nowhere.status_code == 404
    assert button(nowhere.text) == '<summary> <span class="menu-word">Menu</span> </summary>'
    assert "aria-current" not in nowhere.text


async def test_csrf_is_required_on_every_post(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    # sign-out is a POST: without the token it is refused and the session stays
    refused = await as_manager.post("/signout")
    assert refused.status_code == 403
    assert "did not come from the console" in refused.text
    wrong = await as_manager.post("/signout", headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    form = await as_manager.post("/signout", data={"csrf_token": "forged"})
    assert form.status_code == 403
    assert (await as_manager.get("/api/audit")).status_code == 200
    # with it (as a form field, as plain forms send it), the session ends
    done = await as_manager.post("/signout", data={"csrf_token": as_manager.csrf})
    assert done.status_code == 303
    as_manager.cookies.clear()
    async with console.db.read() as session:
        from sqlalchemy import select

        actions = (await session.execute(select(AuditEntry.action))).scalars().all()  # type: ignore[call-overload]
    assert "sign-out" in actions


async def test_a_member_session_cannot_post_to_a_manager_api(
    as_member: ConsoleClient, as_manager: ConsoleClient
) -> None:
    # a member with a valid CSRF token of their own session is still refused by role
    response = await as_member.post("/signout", headers=as_member.csrf_header())
    assert response.status_code == 303  # anyone may sign out
    # another session's token is no token
    response = await as_manager.post("/signout", headers={"X-CSRF-Token": as_member.csrf})
    assert response.status_code == 403


async def test_an_expired_session_is_refused(
    console: ConsoleEnv, as_manager: ConsoleClient
) -> None:
    assert (await as_manager.get("/api/audit")).status_code == 200
    console.clock.advance(timedelta(hours=console.settings.console_session_hours, seconds=1))
    assert (await as_manager.get("/api/audit")).status_code == 401
    assert (await as_manager.get("/audit")).status_code == 303


async def test_a_one_time_link_signs_in_once(
    console: ConsoleEnv, client: httpx.AsyncClient
) -> None:
    token = await create_sign_in(
        console.db, "link", console.clock.now(), timedelta(minutes=15), actor=MANAGER
    )
    page = await client.get(f"/signin/link/{token}")
    assert page.status_code == 200 and 'name="token"' in page.text
    assert COOKIE not in page.cookies  # following the link signs nobody in
    used = await client.post("/signin/link", data={"token": token})
    assert used.status_code == 303
    set_cookie = used.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie and "SameSite=lax" in set_cookie
    assert (await client.get("/api/audit")).status_code == 200
    client.cookies.clear()
    again = await client.post("/signin/link", data={"token": token})
    assert again.status_code == 400
    assert "already used or expired" in again.text


async def test_an_expired_link_is_refused(console: ConsoleEnv, client: httpx.AsyncClient) -> None:
    token = await create_sign_in(
        console.db, "link", console.clock.now(), timedelta(minutes=15), actor=MANAGER
    )
    console.clock.advance(timedelta(minutes=16))
    assert (await client.post("/signin/link", data={"token": token})).status_code == 400


async def test_audit_helper_records_who_what_when(console: ConsoleEnv) -> None:
    viewer = Viewer(MANAGER, None, "Morgan", Role.MANAGER, "en", "x")
    await audit(console.state, viewer, "pause", "connect-launch")
    async with console.db.read() as session:
        from sqlalchemy import select

        row = (await session.execute(select(AuditEntry))).scalar_one()
    assert (row.actor, row.action, row.target, row.at) == (
        MANAGER,
        "pause",
        "connect-launch",
        console.clock.now(),
    )


async def test_helper_and_member_keys_get_their_roles(console: ConsoleEnv) -> None:
    from rallybot.handlers.console.kit import role_of

    assert role_of(console.settings, MANAGER) is Role.MANAGER
    assert role_of(console.settings, HELPER) is Role.HELPER
    assert role_of(console.settings, MEMBER) is Role.MEMBER
    assert role_of(console.settings, "console:UMANAGER") is Role.MEMBER


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_large_bodies_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/signin/link", content=b"x" * (MAX_BODY + 1))
    assert response.status_code == 413
    _assert_secure_headers(response)


_ = (sign_in, HEADERS)


async def test_the_live_server_serves_the_console(live_console: object) -> None:
    from tests.console.conftest import LiveConsole

    assert isinstance(live_console, LiveConsole)
    link = await live_console.link()
    async with httpx.AsyncClient(follow_redirects=False) as http:
        page = await http.get(link)
        assert page.status_code == 200
        token = link.rsplit("/", 1)[1]
        signed = await http.post(f"{live_console.url}/signin/link", data={"token": token})
        assert signed.status_code == 303
        # http://127.0.0.1: the cookie is not Secure, or the browser would not send it back
        assert "Secure" not in signed.headers["set-cookie"]
        audit = await http.get(f"{live_console.url}/audit")
        assert audit.status_code == 200
        # the sign-in, recorded as "sign-in" and shown in words
        assert "Signed in" in audit.text and "with a one-time link" in audit.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_api_path_the_console_never_sees_still_answers_json(
    as_manager: ConsoleClient,
) -> None:
    # a line break in a path: the /console mount does not match it, the server answers 404
    response = await as_manager.post("/api/campaigns/a%0Ab/pause", headers=as_manager.csrf_header())
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}
