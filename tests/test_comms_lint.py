"""Lint of comms drafts: what must be flagged, and what must not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cockpit.core.comms.lint import (
    BLAME,
    ETA,
    INTERNAL_HOST,
    INTERNALS,
    IP_ADDRESS,
    MISSING_NEXT_UPDATE,
    MISSING_START,
    PROMISE,
    SECRET,
    SHA,
    SPECULATION,
    LintContext,
    lint,
    people_names,
)

NEXT = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)
# A context where the facts are complete, so only the text itself is judged.
CTX = LintContext(
    next_update=NEXT,
    start_text="14:31",
    internal_domains=("acme-infra.net",),
    people=("alice", "bob"),
)
GOOD = (
    "Since 14:31 UTC, some requests to checkout have been failing. We are investigating."
    " We will post the next update by 15:30 UTC."
)


def codes(text: str, context: LintContext = CTX) -> list[str]:
    return [finding.code for finding in lint(text, context)]


def test_a_factual_update_is_clean() -> None:
    assert lint(GOOD, CTX) == []


@pytest.mark.parametrize(
    ("phrase", "code"),
    [
        ("The errors were caused by a bad deploy.", SPECULATION),
        ("Errors are due to a database failover.", SPECULATION),
        ("The root cause is a misconfigured cache.", SPECULATION),
        ("This happened because of a bug in our release.", SPECULATION),
        ("The cause was a certificate renewal.", SPECULATION),
        ("This will never happen again.", PROMISE),
        ("We guarantee this will not recur.", PROMISE),
        ("The issue is fully resolved.", PROMISE),
        ("We expect service back within 30 minutes.", ETA),
        ("Service will be restored by 15:00 UTC.", ETA),
        ("Service will be restored shortly.", ETA),
        ("Requests to api.payments.internal fail.", INTERNAL_HOST),
        ("Pod checkout-7d9f5c6b8-x2k4q was restarted.", INTERNAL_HOST),
        ("Host checkout-7d9f is unhealthy.", INTERNAL_HOST),
        ("The db.acme-infra.net cluster failed over.", INTERNAL_HOST),
        ("We restarted db-01 and redis3.", INTERNAL_HOST),
        ("Traffic to 10.1.2.3 was dropped.", IP_ADDRESS),
        ("Traffic to fe80::1ff:fe23:4567:890a was dropped.", IP_ADDRESS),
        ("We rolled back to b9c1d4e.", SHA),
        ("A NullPointerException was thrown.", INTERNALS),
        ("The connection pool was exhausted.", INTERNALS),
        ("See the stack trace below.", INTERNALS),
        ("Engineer Smith deployed the change.", BLAME),
        ("This was human error.", BLAME),
        ("It was the fault of the on-call team.", BLAME),
        ("Thanks @carol for the fix.", BLAME),
        ("alice rolled back the release.", BLAME),
        ("Use AKIAIOSFODNN7EXAMPLE to read the logs.", SECRET),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", SECRET),
        ("key sk-ant-REDACTEDexample0123456789", SECRET),
        ("Authorization: Bearer abcdefghijklmnop.qrstuvwx", SECRET),
        ("the password=hunter2hunter2 was rotated", SECRET),
        # Found by an audit: guesses, vague ETAs, promises, internals, blame, prose secrets.
        ("We think the database is the problem.", SPECULATION),
        ("It appears a recent change broke checkout.", SPECULATION),
        ("The problem started after the 14:29 deploy.", SPECULATION),
        ("We believe the issue is related to our payment provider.", SPECULATION),
        ("The issue is with our payment provider.", SPECULATION),
        ("We expect to be fully back within the hour.", ETA),
        ("Service will be restored by this evening.", ETA),
        ("We expect full recovery in 20 minutes.", ETA),
        ("We have made sure this never recurs.", PROMISE),
        ("The HikariCP pool on payments-db was exhausted.", INTERNALS),
        ("The HikariCP pool on payments-db was exhausted.", INTERNAL_HOST),
        ("Requests hit the postgres primary.", INTERNALS),
        ("Some requests failed at our nginx layer.", INTERNALS),
        ("We're aware of a problem with our redis cluster.", INTERNALS),
        ("Requests to db-primary failed.", INTERNAL_HOST),
        ("Requests to checkout.prod.example.com failed.", INTERNAL_HOST),
        ("Our on-call engineer made a mistake.", BLAME),
        ("The intern deployed a broken build.", BLAME),
        ("John pushed a bad config.", BLAME),
        ("Maria deployed a broken build.", BLAME),
        ("password is hunter2", SECRET),
        ("The API key was sk_live_abcdefghij0123456789.", SECRET),
    ],
)
def test_flags(phrase: str, code: str) -> None:
    found = codes(f"{GOOD} {phrase}")
    assert code in found, (phrase, found)


@pytest.mark.parametrize(
    "phrase",
    [
        "We are investigating elevated errors.",
        "We are not yet certain of the cause.",
        "The cause is under investigation.",
        "Some payment requests were declined.",
        "Checkout and payment were affected in 2026.",
        "Please follow-up by e-mail if you were charged twice.",
        "We will update you as soon as we know more.",
        "Order 1234567 was not affected.",
        "Customers of COVID-19 testing sites were not affected.",
        "We are sorry for the disruption this has caused you.",
        "The incident started at 14:31:02 UTC.",
        "Contact support@example.com with questions.",
        "We will post the next update within 30 minutes.",
        "Errors rose to 12% of requests.",
        "We saw 2,500 errors in 10 minutes.",
        "Error rates dropped within 5 minutes of the rollback.",
        "Customers using the checkout-v2 feature may see errors.",
        "We have rolled back the change and are monitoring.",
        "The root of the issue is being investigated.",
        "A fix has been deployed and we are monitoring. Thanks for your patience.",
        "We have identified a likely cause and are working on a fix.",
        "We made a mistake, and we are sorry.",
        "The token you use to sign in is unchanged.",
        "Checkout broke for some customers.",
        "Payments deployed a fix at 15:02 UTC.",
        "Thanks to every co-worker who helped.",
    ],
)
def test_does_not_flag(phrase: str) -> None:
    assert lint(f"{GOOD} {phrase}", CTX) == [], phrase


def test_a_stated_cause_is_fine_in_review() -> None:
    text = f"{GOOD} The errors were caused by a configuration change."
    assert SPECULATION in codes(text)
    in_review = LintContext(next_update=NEXT, start_text="14:31", in_review=True)
    assert SPECULATION not in codes(text, in_review)


def test_fully_resolved_is_fine_once_resolved() -> None:
    text = "From 14:31 UTC to 14:58 UTC requests failed. The issue is fully resolved."
    assert PROMISE in codes(text, LintContext(start_text="14:31", require_next_update=False))
    resolved = LintContext(start_text="14:31", require_next_update=False, resolved=True)
    assert codes(text, resolved) == []


def test_an_eta_for_the_next_update_needs_the_facts_behind_it() -> None:
    assert lint(GOOD, CTX) == []
    other_time = LintContext(
        next_update=datetime(2026, 11, 28, 16, 0, tzinfo=UTC), start_text="14:31"
    )
    found = codes(GOOD, other_time)
    assert ETA in found  # "by 15:30" is not the next-update time the facts hold
    assert MISSING_NEXT_UPDATE not in found  # but a next update is still promised


def test_missing_facts() -> None:
    unknown = LintContext(next_update=None, start_known=False)
    found = codes("Some requests are failing. We are investigating.", unknown)
    assert found.count(MISSING_START) == 1
    assert found.count(MISSING_NEXT_UPDATE) == 1
    no_promise = codes("Since 14:31 UTC, some requests have been failing.")
    assert no_promise == [MISSING_NEXT_UPDATE]
    no_start = codes("Some requests have been failing. We will post the next update by 15:30 UTC.")
    assert no_start == [MISSING_START]
    done = LintContext(start_text="14:31", require_next_update=False)
    assert codes("From 14:31 UTC to 14:58 UTC some requests failed.", done) == []


def test_findings_carry_code_message_and_span() -> None:
    text = (
        "Since 14:31 UTC the errors were caused by b9c1d4e."
        " We will post the next update by 15:30 UTC."
    )
    findings = lint(text, CTX)
    by_code = {finding.code: finding for finding in findings}
    speculation = by_code[SPECULATION]
    assert text[slice(*speculation.span)] == "caused by"
    assert "caused by" in speculation.message and "Review" in speculation.message
    assert text[slice(*by_code[SHA].span)] == "b9c1d4e"
    assert [f.span[0] for f in findings] == sorted(f.span[0] for f in findings)


def test_secret_messages_do_not_repeat_the_secret() -> None:
    secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    (finding,) = [f for f in lint(f"{GOOD} {secret}", CTX) if f.code == SECRET]
    assert secret not in finding.message
    assert "GitHub token" in finding.message


def test_findings_name_what_was_found_on_one_line() -> None:
    text = f"{GOOD} The HikariCP pool on payments-db was exhausted. password is hunter2"
    messages = [finding.message for finding in lint(text, CTX)]
    assert any("'HikariCP pool'" in message for message in messages), messages
    assert any("'payments-db'" in message for message in messages), messages
    assert all("\n" not in message for message in messages)
    assert not any("hunter2" in message for message in messages)  # secrets are masked


def test_people_names_come_from_authors() -> None:
    assert people_names(["alice@bastion", "bob", "ops", "alertmanager", "al"]) == (
        "alertmanager",
        "alice",
        "bob",
    )
