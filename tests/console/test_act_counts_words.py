"""The Act page's notices write their counts as the reader's language writes numbers."""

from __future__ import annotations

from rallybot.handlers.console.pages.act import ActDone, _sent_words


def test_a_send_nows_counts_have_thousands_separators() -> None:
    done = ActDone(
        action="send", campaign="c", step="s", count=1493, already=1200, replaced=1494, quiet=2500
    )
    said = " ".join(_sent_words("en", done))
    assert "1,200 people have it already" in said
    assert "1,494 planned, not sent" in said and "2,500" in said
    french = " ".join(_sent_words("fr", done))
    assert "1\u202f494" in french or "1\u00a0494" in french, french
