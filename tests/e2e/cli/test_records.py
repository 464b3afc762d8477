def test_accounts_lifecycle(snipe):
    added = snipe("accounts", "add", "alice", "--password-stdin", stdin="s3cret\n")
    assert added.code == 0, added.err
    listed = snipe("accounts", "list", "--json").json()["accounts"]
    assert [(a["netid"], a["is_active"]) for a in listed] == [("alice", True)]
    assert "s3cret" not in snipe("accounts", "list", "--json").out
    assert snipe("accounts", "disable", "alice").code == 0
    assert snipe("accounts", "list", "--json").json()["accounts"][0]["is_active"] is False
    assert snipe("accounts", "enable", "alice").code == 0
    assert snipe("accounts", "remove", "alice").code == 0
    assert snipe("accounts", "list", "--json").json()["accounts"] == []


def test_unknown_account_and_empty_password_are_clear_errors(snipe):
    missing = snipe("accounts", "disable", "ghost")
    assert missing.code == 1 and "no account 'ghost'" in missing.err
    empty = snipe("accounts", "add", "bob", "--password-stdin", stdin="\n")
    assert empty.code == 2 and "empty password" in empty.err  # a usage error


def test_unknown_site_profile_for_an_account(snipe):
    result = snipe("accounts", "add", "bob", "--password-stdin", "--site", "mars", stdin="pw\n")
    assert result.code == 1 and "unknown site profile 'mars'" in result.err


def test_jobs_cancel(snipe, bookings):
    strikes = snipe("schedule", str(bookings), "--json").json()["strikes"]
    target = strikes[-1]["id"]
    assert snipe("jobs", "cancel", str(target)).code == 0
    listed = {s["id"]: s["state"] for s in snipe("jobs", "list", "--json").json()["strikes"]}
    assert listed[target] == "cancelled"
    again = snipe("jobs", "cancel", str(target))
    assert again.code == 1 and "only scheduled ones cancel" in again.err
    assert snipe("jobs", "cancel", "99999").code == 1


def test_empty_listings(snipe):
    assert snipe("bookings", "list", "--json").json() == {"bookings": []}
    assert snipe("log", "--json").json() == {"log": []}
    assert "No upcoming strikes" in snipe("status").out


def test_bad_db_url_is_clear(snipe):
    result = snipe("--db", "nosuchdriver://x", "status")
    assert result.code == 1 and "cannot use database" in result.err


def test_usage_errors_name_the_problem_exit_2_and_never_say_unexpected(snipe):
    for args, said in ((("statuss",), "No such command 'statuss'"),
                       (("status", "--limit", "0"), "'--limit'"),
                       (("jobs", "list", "--state", "bogus"), "unknown strike state 'bogus'"),
                       (("book", "--account", "x"), "Missing option")):
        result = snipe(*args)
        assert result.code == 2, args
        assert said in result.err and "unexpected" not in result.err
        assert len(result.err.strip().splitlines()) == 1
    bare = snipe("jobs")  # a group without its command: its help, as a usage error
    assert bare.code == 2 and "unexpected" not in bare.err
