"""`dualwrite app …`: registered applications, their secrets, application users of
environments and signing keys, scripted as an administrator would."""

from __future__ import annotations

from clirun import Run, as_json, integrate

ENV = "contoso-test"


def test_applications_from_registration_to_deletion(initialised: Run) -> None:
    run = initialised
    made = as_json(run("app", "create", "Integration", "--secret-days", "30", "--json"))
    client_id, secret = made["application"]["client_id"], made["secret"]["secret"]
    shown = run("app", "show", client_id)
    assert secret not in shown.stdout and secret[:3] in shown.stdout
    printed = run("app", "create", "Second")
    assert "shown this once" in printed.stdout
    assert [a["display_name"] for a in as_json(run("app", "list", "--json"))] == [
        "Integration",
        "Second",
    ]
    rotated = as_json(
        run("app", "rotate", "Integration", "--old-secrets-end", "2099-01-01T00:00", "--json")
    )
    assert rotated["secret"] != secret
    secrets = as_json(run("app", "show", client_id, "--json"))["secrets"]
    assert [s["expired"] for s in secrets] == [False, False]  # the old one lives until 2099
    run("app", "rotate", client_id)  # default: the old ones end now
    assert [s["expired"] for s in as_json(run("app", "show", client_id, "--json"))["secrets"]] == [
        True,
        True,
        False,
    ]
    bad = run("app", "rotate", client_id, "--old-secrets-end", "soon", ok=False)
    assert bad.stderr.startswith("Error DW1000: --old-secrets-end")
    disabled = as_json(run("app", "update", client_id, "--disabled", "--name", "Old", "--json"))
    assert (disabled["enabled"], disabled["display_name"]) == (False, "Old")
    assert "Deleted Old" in run("app", "delete", client_id).stdout
    missing = run("app", "show", client_id, ok=False)
    assert missing.stderr.startswith("Error DW1002: No registered application named")


def test_application_users_in_both_kinds_of_environment(initialised: Run) -> None:
    run = initialised
    run("project", "create", "ERP")
    run("env", "create", ENV, "--project", "ERP", "--legal-entity", "USMF")
    run("platform", "env", "create", "Sales", "--region", "West US", "--dataverse")
    integrate(run, ENV, "Sales")
    dualwrite = as_json(run("app", "users", "--fo", ENV, "--json"))
    assert [(u["name"], u["dualwrite"]) for u in dualwrite] == [("Dual-write", True)]
    client_id = as_json(run("app", "create", "Integration", "--json"))["application"]["client_id"]
    granted = as_json(
        run("app", "grant", client_id, "--fo", ENV, "--role", "System administrator", "--json")
    )
    assert [u["security_role"] for u in granted] == ["System administrator"] * 2
    run("app", "grant", "Integration", "--dataverse", "Sales", "--role", "Basic User", "--disabled")
    users = as_json(run("app", "users", "--dataverse", "Sales", "--json"))
    assert [(u["name"], u["enabled"]) for u in users] == [
        ("Dual-write", True),
        ("Integration", False),
    ]
    run("app", "revoke", client_id, "--fo", ENV)
    assert len(as_json(run("app", "users", "--fo", ENV, "--json"))) == 1
    neither = run("app", "users", ok=False)
    assert neither.stderr.startswith("Error DW1000: environment: name one")
    dualwrite_id = dualwrite[0]["client_id"]
    refused = run("app", "delete", dualwrite_id, ok=False)
    assert refused.stderr.startswith("Error DW3007")
    assert "Secret" in run("app", "rotate", dualwrite_id).stdout  # its secret, to sign in with


def test_signing_keys_rotate_and_retire(initialised: Run) -> None:
    run = initialised
    first = as_json(run("app", "keys", "rotate", "--json"))
    second = as_json(run("app", "keys", "rotate", "--json"))
    keys = as_json(run("app", "keys", "list", "--json"))
    assert [k["kid"] for k in keys] == [second["kid"], first["kid"]]
    assert run("app", "keys", "retire", second["kid"], ok=False).stderr.startswith("Error DW3010")
    retired = as_json(run("app", "keys", "retire", first["kid"], "--json"))
    assert retired["published"] is False
