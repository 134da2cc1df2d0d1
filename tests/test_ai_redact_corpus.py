"""A corpus of real secret formats, as they show up in logs, configs and shell history.

Every secret must be gone from what the redactor returns (redaction fails closed: a secret it
cannot classify is not let through whole). The corpus counts itself: at least 60 formats, all
of them redacted; a second corpus of look-alikes that must survive keeps the rules honest.
The pipeline tests then plant the hardest cases in real log files and read them back through
`search_logs` for the AI request and for MCP: a PEM key logged one line per hit, and an AWS
key that straddles the 600-character cut of a hit.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.core.ai.redact import Redactor

RSA_BODY = [
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
    "LxoR+Ws3Ljh8H0xG6dEHCbtTQmSK7xq0Y0mB6UyZqN7+4t3J1oDpU8pRrNv2TxQw",
    "dGhpcyBpcyBhIHNhbXBsZSBrZXkgYm9keSBsaW5lIGZvciB0ZXN0aW5nIG9ubHk=",
]
PGP_BODY = [
    "lQOYBF4n3ZkBCADGxyz0abcDEFghiJKLmnoPQRstuVWXyz0123456789abcdEFGH",
    "ijklMNOPqrstUVWXyz0123456789ABCDEFGHijklmnopQRSTuvwxYZ0123456789",
    "=Ab1C",
]
AZURE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
SAS_SIG = "M1zVN0mRw%2FUHJ6Y1Xc9b5fCDn2yYj0PpnJq0Qm2kFjk%3D"

# (format, line as logged, the secrets in it)
SECRETS: list[tuple[str, str, list[str]]] = [
    ("aws access key id", "aws key id AKIAIOSFODNN7EXAMPLE in config", ["AKIAIOSFODNN7EXAMPLE"]),
    ("aws temporary key id", "creds ASIAY34FZKBOKMUTVV7A loaded", ["ASIAY34FZKBOKMUTVV7A"]),
    (
        "aws secret access key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    ),
    (
        "aws env secret",
        "AWS_SECRET_ACCESS_KEY=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        ["je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"],
    ),
    (
        "aws session token",
        "AWS_SESSION_TOKEN=FwoGZXIvYXdzEBYaDH3Zw2Xm9ExampleSessionToken",
        ["FwoGZXIvYXdzEBYaDH3Zw2Xm9ExampleSessionToken"],
    ),
    (
        "github classic pat",
        "git push https://ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8@github.com/x/y",
        ["ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"],
    ),
    (
        "github fine-grained pat",
        "GH github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        ["github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"],
    ),
    (
        "github oauth",
        "token gho_16C7e42F292c6912E7710c838347Ae178B4a used",
        ["gho_16C7e42F292c6912E7710c838347Ae178B4a"],
    ),
    ("gitlab pat", "GITLAB glpat-xxxxXXXX1234yyyyZZZZ used", ["glpat-xxxxXXXX1234yyyyZZZZ"]),
    (
        "slack bot token",
        "slack xoxb-1234567890-abcdefghijkl posted",
        ["xoxb-1234567890-abcdefghijkl"],
    ),
    (
        "slack webhook",
        "POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        ["T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"],
    ),
    (
        "stripe live key",
        "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc charge",
        ["sk_live_4eC39HqLyjWDarjtT1zdp7dc"],
    ),
    (
        "stripe restricted key",
        "rk_live_51H8abcDEFghiJKLmnoPQR used",
        ["rk_live_51H8abcDEFghiJKLmnoPQR"],
    ),
    (
        "stripe webhook secret",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw set",
        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    ),
    (
        "anthropic key",
        "key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123",
        ["sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123"],
    ),
    (
        "openai project key",
        "OPENAI sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
        ["sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"],
    ),
    (
        "google api key",
        "maps AIzaSyA1234567890abcdefghijklmnopqrstuv",
        ["AIzaSyA1234567890abcdefghijklmnopqrstuv"],
    ),
    (
        "google oauth client secret",
        '{"client_id": "1234.apps.googleusercontent.com",'
        ' "client_secret": "GOCSPX-1a2B3c4D5e6F7g8H9i0J"}',
        ["GOCSPX-1a2B3c4D5e6F7g8H9i0J"],
    ),
    (
        "sendgrid key",
        "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 set",
        ["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"],
    ),
    (
        "npm token",
        "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789",
        ["npm_abcdefghijklmnopqrstuvwxyz0123456789"],
    ),
    (
        "pypi token",
        "upload with pypi-AgEIcHlwaS5vcmcCJGE0ZWQ2ZTk5LTU0YmEtNDYwZC1iYjc5LTEyMzQ1Njc4OTBhYgACKlsz",
        ["pypi-AgEIcHlwaS5vcmcCJGE0ZWQ2ZTk5LTU0YmEtNDYwZC1iYjc5LTEyMzQ1Njc4OTBhYgACKlsz"],
    ),
    (
        "hugging face token",
        "HF hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
        ["hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"],
    ),
    (
        "digitalocean token",
        "dop_v1_" + "a" * 32 + "b" * 32 + " used",
        ["dop_v1_" + "a" * 32 + "b" * 32],
    ),
    (
        "shopify token",
        "shpat_0123456789abcdef0123456789abcdef ok",
        ["shpat_0123456789abcdef0123456789abcdef"],
    ),
    (
        "vault token",
        "VAULT hvs.CAESIJlWh6DJQ4LTc1zqk5y8Ex7ZmCsvUTmSdx1gp6jvWp9GGh4KHGh2cy5Xb2ZC",
        ["hvs.CAESIJlWh6DJQ4LTc1zqk5y8Ex7ZmCsvUTmSdx1gp6jvWp9GGh4KHGh2cy5Xb2ZC"],
    ),
    (
        "age secret key",
        "AGE-SECRET-KEY-1QQPQZZ5NMGGVHPD4XFLKXQZZ5NMGGVHPD4XFLKXQZZ5NMGGVHPDSKQ2K0M",
        ["AGE-SECRET-KEY-1QQPQZZ5NMGGVHPD4XFLKXQZZ5NMGGVHPD4XFLKXQZZ5NMGGVHPDSKQ2K0M"],
    ),
    (
        "telegram bot token",
        "bot 5512345678:AAH2Z3x4y5w6v7u8t9s0r1q2p3o4n5m6l7k used",
        ["AAH2Z3x4y5w6v7u8t9s0r1q2p3o4n5m6l7k"],
    ),
    (
        "discord webhook",
        "https://discord.com/api/webhooks/123456789012345678/AbCdEf-GhIjKlMnOpQrStUvWxYz_0123456789abcdefABCDEF",
        ["AbCdEf-GhIjKlMnOpQrStUvWxYz_0123456789abcdefABCDEF"],
    ),
    (
        "jwt",
        "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.dGhpc2lzYXNpZ25hdHVyZQ ok",
        ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.dGhpc2lzYXNpZ25hdHVyZQ"],
    ),
    ("bearer header", "Authorization: Bearer abc123opaquetokenvalue", ["abc123opaquetokenvalue"]),
    (
        "basic header",
        'curl -H "Authorization: Basic dXNlcjpodW50ZXIy" https://api',
        ["dXNlcjpodW50ZXIy"],
    ),
    ("proxy authorization", "Proxy-Authorization: Basic Zm9vOmJhcmJheg==", ["Zm9vOmJhcmJheg=="]),
    (
        "token header",
        "Authorization: token 0123456789abcdef0123456789abcdef",
        ["0123456789abcdef0123456789abcdef"],
    ),
    (
        "x-api-key header",
        "X-API-Key: 9f86d081884c7d659a2feaa0c55ad015",
        ["9f86d081884c7d659a2feaa0c55ad015"],
    ),
    ("x-auth-token header", "X-Auth-Token: tk_8c4e2f1a9b7d6c5e", ["tk_8c4e2f1a9b7d6c5e"]),
    (
        "cookie header",
        "Cookie: sessionid=9a8b7c6d5e4f3a2b1c0d; theme=dark",
        ["9a8b7c6d5e4f3a2b1c0d"],
    ),
    (
        "set-cookie header",
        "Set-Cookie: session_id=s%3Aabc123def456.sig; Path=/",
        ["s%3Aabc123def456.sig"],
    ),
    ("curl -u", "curl -u admin:S3cretPass! https://api.internal/v1", ["S3cretPass!"]),
    ("url credentials", "https://deploy:Sup3rS3cret!@git.internal/repo.git", ["Sup3rS3cret!"]),
    ("postgres dsn", "postgres://app:Sup3rS3cret!@db.internal:5432/orders", ["Sup3rS3cret!"]),
    (
        "mysql dsn with @ in password",
        "DATABASE_URL=mysql://root:p@ssW0rd@db:3306/app",
        ["p@ssW0rd", "ssW0rd"],
    ),
    ("redis dsn with / in password", "cache at redis://:abc/def@cache:6379/0", ["abc/def"]),
    (
        "mongodb srv dsn",
        "mongodb+srv://admin:hunter2hunter2@cluster0.ab1cd.mongodb.net/db",
        ["hunter2hunter2"],
    ),
    ("amqp dsn", "broker amqp://guest:gu3st-Pa55@rabbit:5672//", ["gu3st-Pa55"]),
    ("percent-encoded dsn", "postgresql://app:s3cr%40t%2Fx@db/app", ["s3cr%40t%2Fx"]),
    ("jdbc url", "jdbc:postgresql://db:5432/app?user=app&password=jdbcS3cret", ["jdbcS3cret"]),
    ("password pair", "retrying login password=hunter2pass for user bob", ["hunter2pass"]),
    ("pass pair", "ftp login user=bob pass=Tr0ub4dor&3 ok", ["Tr0ub4dor"]),
    ("passwd pair", "ldap bind passwd=Ld4pS3cret", ["Ld4pS3cret"]),
    ("pwd pair", "Server=db;Database=app;Uid=sa;Pwd=MsSqlP4ss!;", ["MsSqlP4ss!"]),
    ("passphrase", "gpg passphrase: correct-horse-battery-9", ["correct-horse-battery-9"]),
    ("secret key", "SECRET_KEY=django-insecure-8x!w2@k9#z", ["django-insecure-8x!w2@k9#z"]),
    (
        "secret key base",
        "SECRET_KEY_BASE=a9f0b3c2d1e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0",
        ["a9f0b3c2d1e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0"],
    ),
    ("api key pair", '{"api_key": "tok_live_998877", "user": 1}', ["tok_live_998877"]),
    (
        "apikey yaml",
        "  apikey: 5f4dcc3b5aa765d61d8327deb882cf99",
        ["5f4dcc3b5aa765d61d8327deb882cf99"],
    ),
    ("client secret env", "OAUTH_CLIENT_SECRET=cS3cr3t-0123456789", ["cS3cr3t-0123456789"]),
    ("private key pair", "private_key=ed25519:3Fh8Kw9Zx2", ["ed25519:3Fh8Kw9Zx2"]),
    (
        "json password",
        '{"user": "bob", "password": "hunter2 with spaces"}',
        ["hunter2 with spaces"],
    ),
    ("yaml password", '    password: "Y4mlS3cret"', ["Y4mlS3cret"]),
    (
        "access token",
        "access_token=ya29.a0AfH6SMBx3Example-Token_value",
        ["ya29.a0AfH6SMBx3Example-Token_value"],
    ),
    (
        "refresh token json",
        '{"refresh_token":"1//0gExampleRefreshToken-abc"}',
        ["1//0gExampleRefreshToken-abc"],
    ),
    (
        "azure storage account key",
        f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net",
        [AZURE_KEY, AZURE_KEY[:20]],
    ),
    (
        "azure service bus key",
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==",
        ["Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=="],
    ),
    (
        "azure sas url",
        f"GET https://acct.blob.core.windows.net/c/b?sv=2021-06-08&ss=b&sp=rl&se=2026-12-01&sig={SAS_SIG}",
        [SAS_SIG],
    ),
    (
        "url-encoded token",
        "redirect=https%3A%2F%2Fapp%2Fcb%3Ftoken%3DdeadBEEF1234cafe5678%26x%3D1",
        ["deadBEEF1234cafe5678"],
    ),
    ("url-encoded password", "next=%2Flogin%3Fuser%3Dbob%26password%3DPl4inT3xt", ["Pl4inT3xt"]),
    ("query string token", "GET /cb?code=abc&token=QwErTy123456789&state=x", ["QwErTy123456789"]),
    ("prose password", "the password is hunter2.", ["hunter2"]),
    ("email", "customer jane.doe@example.com complained", ["jane.doe@example.com"]),
    ("visa card", "card 4111 1111 1111 1111 declined", ["4111 1111 1111 1111"]),
    ("mastercard", "card 5500-0000-0000-0004 declined", ["5500-0000-0000-0004"]),
    ("amex card", "amex 378282246310005 charged", ["378282246310005"]),
    (
        "rsa private key block",
        "-----BEGIN RSA PRIVATE KEY-----\n"
        + "\n".join(RSA_BODY)
        + "\n-----END RSA PRIVATE KEY-----",
        RSA_BODY,
    ),
    (
        "openssh private key block",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz\n"
        "-----END OPENSSH PRIVATE KEY-----",
        ["b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz"],
    ),
    (
        "encrypted pkcs8 key",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + RSA_BODY[0]
        + "\n-----END ENCRYPTED PRIVATE KEY-----",
        [RSA_BODY[0]],
    ),
    (
        "pgp private key block",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
        + "\n".join(PGP_BODY)
        + "\n-----END PGP PRIVATE KEY BLOCK-----",
        PGP_BODY[:2],
    ),
    (
        "gcp service account json",
        '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n'
        + RSA_BODY[1]
        + '\\n-----END PRIVATE KEY-----\\n", "client_email": "x@p.iam.gserviceaccount.com"}',
        [RSA_BODY[1]],
    ),
    (
        "pem key logged one line per hit",
        "\n".join(
            f"2026-11-28T14:40:0{i}Z checkout: {line}"
            for i, line in enumerate(["-----BEGIN RSA PRIVATE KEY-----"])
        )
        + "\n"
        + "\n".join(f"2026-11-28T14:40:1{i}Z checkout: {line}" for i, line in enumerate(RSA_BODY)),
        RSA_BODY,
    ),
    (
        "pem body lines with no marker",
        "\n".join(
            f"2026-11-28T14:40:1{i}Z checkout: {line}" for i, line in enumerate(RSA_BODY[:3])
        ),
        RSA_BODY[:3],
    ),
    (
        "docker config auth",
        '{"auths": {"registry.example.com": {"auth": "ZGVwbG95OlMzY3JldFBhc3M="}}}',
        ["ZGVwbG95OlMzY3JldFBhc3M="],
    ),
]

SURVIVORS = [
    "deploy f951c4ff7d92ed6f5ba1c2f1fb00d57e55d2a867 rev 39 request_id=7e9c986348e71bda",
    "status=504 duration_ms=791 max_tokens=4096 at 2026-11-28T14:21:14.578Z",
    "feature bypass=true compass=north signal=9 design=flat",
    "tokens_used=1532 token_count=12 passes=3 sig_count=2",
    "the token is expired; the password is wrong",
    "GET https://api.example.com:8443/v1/orders?id=42 200",
    "trace 3f2a9c1b-7d0e-4b8a-9c6d-2e1f0a9b8c7d span 00f067aa0ba902b7",
    "image registry.example.com/checkout:v1.48.1 sha256:" + "ab" * 32,
    "https://registry.npmjs.org:443/@scope/pkg 200",
]


@pytest.mark.parametrize(("name", "line", "secrets"), SECRETS, ids=[name for name, _, _ in SECRETS])
def test_every_format_is_redacted(name: str, line: str, secrets: list[str]) -> None:
    redacted = Redactor({}).redact(line)
    for secret in secrets:
        assert secret not in redacted, f"{name}: {secret!r} leaked in {redacted!r}"
    assert "[REDACTED:" in redacted


def test_the_corpus_is_big_and_every_format_fails_closed() -> None:
    """The count the README quotes: how many formats are covered, and how many leaked (0)."""
    redactor = Redactor({})
    leaked = [
        name
        for name, line, secrets in SECRETS
        if any(secret in redactor.redact(line) for secret in secrets)
    ]
    assert len(SECRETS) >= 60
    assert leaked == [], f"{len(leaked)} of {len(SECRETS)} formats leaked: {leaked}"


@pytest.mark.parametrize("line", SURVIVORS)
def test_look_alikes_survive(line: str) -> None:
    assert Redactor({}).redact(line) == line


def test_redaction_runs_before_a_cut_anywhere_in_a_line() -> None:
    """Cut a hit at any length: no prefix of the AWS key long enough to matter survives."""
    from cockpit.core.ai.tools import clip

    redactor = Redactor({})
    key = "AKIAIOSFODNN7EXAMPLE"
    line = "x" * 590 + f" key={key} tail"
    for limit in range(580, 640):
        shown = clip(line, limit, redactor)
        assert "AKIAIOSF" not in shown and len(shown) <= limit + 40
    # Without a redactor a cut never leaves half a word behind either.
    assert clip("x" * 595 + " AKIAIOSFODNN7EXAMPLE", 600, None).endswith("x …")


# -- through the real pipeline: log files -> search_logs -> AI request body and MCP -----------

NOW = datetime(2026, 11, 28, 14, 45, tzinfo=UTC)


@pytest.fixture
def hostile_logs(tmp_path: Path) -> Path:
    """A service whose log holds the hard cases, one per line as an application logs them."""
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    lines = []
    moment = NOW - timedelta(minutes=30)

    def add(text: str) -> None:
        nonlocal moment
        moment += timedelta(seconds=1)
        lines.append(f"{moment:%Y-%m-%dT%H:%M:%SZ} level=error LEAKCHECK {text}")

    add("loading key -----BEGIN RSA PRIVATE KEY-----")
    for body in RSA_BODY:
        add(body)
    add("-----END RSA PRIVATE KEY-----")
    add("x" * 560 + " aws key AKIAIOSFODNN7EXAMPLE")
    add("db DATABASE_URL=mysql://root:p@ssW0rd@db:3306/app")
    add(f"storage AccountKey={AZURE_KEY};")
    add("callback=%2Fcb%3Ftoken%3DdeadBEEF1234cafe5678")
    log.write_text("\n".join(lines) + "\n")
    config = tmp_path / "cockpit.toml"
    config.write_text(
        "[cockpit]\nstore = 'incidents.db'\n"
        "[[sources]]\nkind = 'files'\nname = 'app'\nservice = 'app'\npaths = ['logs/app.log']\n"
    )
    return config


LEAKS = [*RSA_BODY, "AKIAIOSF", "ssW0rd", AZURE_KEY[:16], "deadBEEF1234"]


def test_search_logs_results_are_redacted_before_they_are_cut(hostile_logs: Path) -> None:
    from cockpit.core.ai.tools import registry
    from cockpit.core.config import load_config_file

    redactor = Redactor({})
    tools = {
        t.name: t
        for t in registry(load_config_file(hostile_logs), clock=lambda: NOW, redactor=redactor)
    }
    text = tools["search_logs"].call({"pattern": "LEAKCHECK", "max_lines": 50}).text
    assert "LEAKCHECK" in text
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} leaked from search_logs"


async def test_the_ai_request_body_and_mcp_results_carry_no_secret(hostile_logs: Path) -> None:
    from mcp import Client

    from cockpit.commands.mcp import build_server
    from cockpit.core.ai.tools import registry
    from cockpit.core.config import load_config_file

    config = load_config_file(hostile_logs)
    redactor = Redactor({})
    tools = registry(config, clock=lambda: NOW, redactor=redactor)
    search = next(t for t in tools if t.name == "search_logs")
    raw = search.call({"pattern": "LEAKCHECK", "max_lines": 50}).text
    body = redactor.redact_json({"messages": [{"role": "user", "content": raw}]})
    sent = json.dumps(body)
    for leak in LEAKS:
        assert leak not in sent
    async with Client(build_server(tools, redactor)) as client:
        result = await client.call_tool("search_logs", {"pattern": "LEAKCHECK", "max_lines": 50})
    mcp_text = "\n".join(getattr(block, "text", "") for block in result.content)
    assert "LEAKCHECK" in mcp_text and not result.is_error
    for leak in LEAKS:
        assert leak not in mcp_text
    assert base64.b64decode(RSA_BODY[3]).decode() not in mcp_text
