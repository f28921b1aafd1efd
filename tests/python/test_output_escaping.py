"""Output cannot be spoofed (issue #11 item 7): ids and names with control characters print escaped, on one
line; stored values stay verbatim."""

from __future__ import annotations

from mrr_warehouse.display import printable

NASTY_ID = "c1\nfake.json: completed: 1 accepted\x1b[2K\u202e"


def test_printable_escapes_newlines_ansi_c1_and_bidi_controls_and_keeps_other_text():
    assert (
        printable("a\nb\r\tc\x1b[31m\x85\u202e\u2066d é 漢")
        == "a\\nb\\r\\tc\\x1b[31m\\x85\\u202e\\u2066d é 漢"
    )


def test_a_rejection_echoing_an_id_with_control_characters_prints_one_escaped_line(
    write_request, load, query
):
    body = {"customers": [{"external_id": NASTY_ID, "lead_created_at": "never"}]}
    result = load(write_request("c.json", body))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2  # the rejection and the summary; no forged line
    assert "customer c1\\nfake.json: completed: 1 accepted\\x1b[2K\\u202e: lead_created_at" in lines[0]
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert query("select external_id from main.load_errors") == [(NASTY_ID,)]


def test_sources_list_escapes_a_data_source_name(write_request, load, run_cli):
    assert (
        load(
            write_request("c.json", {"customers": [{"external_id": "c1"}]}), data_source="Evil\nName"
        ).returncode
        == 0
    )
    listing = run_cli("sources", "list")
    assert listing.returncode == 0
    assert len(listing.stdout.splitlines()) == 2
    assert "Evil\\nName" in listing.stdout


def test_lifecycle_commands_escape_the_ids_they_echo(write_request, load, run_cli, query):
    assert load(write_request("c.json", {"customers": [{"external_id": NASTY_ID}]})).returncode == 0
    tagged = run_cli("customers", "tag", NASTY_ID, "vip", "--data-source", "Billing")
    assert tagged.returncode == 0, tagged.stderr
    assert "\x1b" not in tagged.stdout and len(tagged.stdout.splitlines()) == 1
    missing = run_cli("customers", "tag", "no\nsuch", "vip", "--data-source", "Billing")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "error: no customer no\\nsuch in data source Billing"
