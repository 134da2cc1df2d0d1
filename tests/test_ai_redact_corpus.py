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


# Beyond the first corpus: formats an audit found leaking (vendor tokens, passwords on
# command lines, ~/.netrc and ~/.pgpass lines, XML, Digest and custom Authorization schemes,
# signed URLs, PuTTY and JWK keys, base64 PEM, password hashes, TLS key logs, IBAN, SSN).
SECRETS += [
    (
        "slack user xoxp",
        "tok xoxp-2147483648-2147483648-2147483648-abcdef0123456789abcdef0123456789",
        [
            "xoxp-2147483648-2147483648-2147483648-abcdef0123456789abcdef0123456789",
        ],
    ),
    (
        "github ghs",
        "installation ghs_16C7e42F292c6912E7710c838347Ae178B4a done",
        [
            "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
        ],
    ),
    (
        "gitlab deploy token",
        "gldt-Xk9fA2bC3dE4fG5hI6jK used",
        [
            "gldt-Xk9fA2bC3dE4fG5hI6jK",
        ],
    ),
    (
        "gitlab runner token",
        "runner glrt-t1_Xk9fA2bC3dE4fG5hI6jK registered",
        [
            "glrt-t1_Xk9fA2bC3dE4fG5hI6jK",
        ],
    ),
    (
        "gitlab registration",
        "registration-token GR1348941Xk9fA2bC3dE4fG5hI6j ok",
        [
            "GR1348941Xk9fA2bC3dE4fG5hI6j",
        ],
    ),
    (
        "twilio api key",
        "twilio SK2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d used",
        [
            "SK2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d",
        ],
    ),
    (
        "mailgun",
        "mailgun key-3ax6xnjp29jd6fds4gc373sgvjxteol0 sent",
        [
            "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
        ],
    ),
    (
        "mailchimp",
        "mc 0123456789abcdef0123456789abcdef-us12 ok",
        [
            "0123456789abcdef0123456789abcdef-us12",
        ],
    ),
    (
        "square",
        "square sq0atp-1A2b3C4d5E6f7G8h9I0jKL ok",
        [
            "sq0atp-1A2b3C4d5E6f7G8h9I0jKL",
        ],
    ),
    (
        "square secret",
        "sq0csp-1A2b3C4d5E6f7G8h9I0jKLmnOpQrStUvWxYz012345 ok",
        [
            "sq0csp-1A2b3C4d5E6f7G8h9I0jKLmnOpQrStUvWxYz012345",
        ],
    ),
    (
        "braintree",
        "access_token$production$x7y8z9w0v1u2t3s4$0123456789abcdef0123456789abcdef",
        [
            "0123456789abcdef0123456789abcdef",
        ],
    ),
    (
        "new relic",
        "nr NRAK-A1B2C3D4E5F6G7H8I9J0K1L2M3N ok",
        [
            "NRAK-A1B2C3D4E5F6G7H8I9J0K1L2M3N",
        ],
    ),
    (
        "atlassian",
        "jira ATATT3xFfGF0Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4zA5bC6dE7fG8hI9=8A1B2C3D used",
        [
            "ATATT3xFfGF0Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4zA5bC6dE7fG8hI9=8A1B2C3D",
        ],
    ),
    (
        "okta ssws",
        "Authorization: SSWS 00QCjAl4MlV-WPXM0Xk9fA2bC3dE4fG5hI6jK7lM8n",
        [
            "00QCjAl4MlV-WPXM0Xk9fA2bC3dE4fG5hI6jK7lM8n",
        ],
    ),
    (
        "azure ad client secret",
        "AZURE_CLIENT_SECRET=Xyz8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456",
        [
            "Xyz8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456",
        ],
    ),
    (
        "azure ad secret bare",
        "cred Xyz8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456 loaded",
        [
            "Xyz8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456",
        ],
    ),
    (
        "s3 presigned",
        "GET /b/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F2026"
        "0101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d04"
        "45342fe2855ddc963176630326f1024",
        [
            "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
            "AKIAIOSFODNN7EXAMPLE",
        ],
    ),
    (
        "s3 security token",
        "X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLEtokenvalue1234567890abcdef&x=1",
        [
            "IQoJb3JpZ2luX2VjEXAMPLEtokenvalue1234567890abcdef",
        ],
    ),
    (
        "gcs signed",
        "?X-Goog-Signature=4a6f1e3b5c7d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f",
        [
            "4a6f1e3b5c7d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f",
        ],
    ),
    (
        "docker pat",
        "docker login -u bob --password-stdin < dckr_pat_Xk9fA2bC3dE4fG5hI6jK7lM8nO9",
        [
            "dckr_pat_Xk9fA2bC3dE4fG5hI6jK7lM8nO9",
        ],
    ),
    (
        "terraform cloud",
        "TFE token Xk9fA2bC3dE4fG.atlasv1.Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4zA5bC6dE7fG"
        "8hI9jK0lM used",
        [
            "Xk9fA2bC3dE4fG.atlasv1.Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4zA5bC6dE7fG8hI9jK0lM",
        ],
    ),
    (
        "doppler",
        "dp.st.prd.Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4 set",
        [
            "dp.st.prd.Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4",
        ],
    ),
    (
        "linear",
        "lin_api_Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4 ok",
        [
            "lin_api_Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4",
        ],
    ),
    (
        "notion",
        "notion secret_Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4 ok",
        [
            "secret_Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4",
        ],
    ),
    (
        "sentry token",
        "sntrys_eyJpYXQiOjE2ODQxMjM0NTYsInVybCI6Imh0dHBzOi8vc2VudHJ5LmlvIn0_Xk9fA2bC3dE4fG5hI6j"
        "K7lM8nO9 set",
        [
            "sntrys_eyJpYXQiOjE2ODQxMjM0NTYsInVybCI6Imh0dHBzOi8vc2VudHJ5LmlvIn0_Xk9fA2bC3dE4fG5"
            "hI6jK7lM8nO9",
        ],
    ),
    (
        "postman",
        "PMAK-5f8c1d2e3a4b5c6d7e8f9a0b-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e used",
        [
            "PMAK-5f8c1d2e3a4b5c6d7e8f9a0b-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e",
        ],
    ),
    (
        "grafana sa",
        "glsa_Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS_1a2b3c4d ok",
        [
            "glsa_Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS_1a2b3c4d",
        ],
    ),
    (
        "grafana cloud",
        "glc_eyJvIjoiMTIzNDU2IiwibiI6InN0YWNrLTEyMzQtaG0tcmVhZCIsImsiOiJYazlmQTJiQzNkRTRmRzVoST"
        "ZqSyJ9 ok",
        [
            "glc_eyJvIjoiMTIzNDU2IiwibiI6InN0YWNrLTEyMzQtaG0tcmVhZCIsImsiOiJYazlmQTJiQzNkRTRmRz"
            "VoSTZqSyJ9",
        ],
    ),
    (
        "databricks",
        "host dapi0123456789abcdef0123456789abcdef ok",
        [
            "dapi0123456789abcdef0123456789abcdef",
        ],
    ),
    (
        "cloudflare origin ca",
        "v1.0-0123456789abcdef01234567-0123456789abcdef0123456789abcdef0123456789abcdef01234567"
        "89abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
        "ef0123 ok",
        [
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01"
            "23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ],
    ),
    (
        "firebase fcm",
        "key=AAAAXk9fA2b:APA91bHPRgkFLJu6NjkS8CQZxU2wXk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4"
        "zA5bC6dE7fG8hI9jK0lM1nO2pQ3rS4tU5vW6xY7zA8bC9dE0fG1hI2jK3lM4nO5pQ6rS",
        [
            "APA91bHPRgkFLJu6NjkS8CQZxU2wXk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4zA5bC6dE7fG8"
            "hI9jK0lM1nO2pQ3rS4tU5vW6xY7zA8bC9dE0fG1hI2jK3lM4nO5pQ6rS",
        ],
    ),
    (
        "sshpass",
        "sshpass -p 'Tr0ub4dor&3' ssh root@db1",
        [
            "Tr0ub4dor&3",
        ],
    ),
    (
        "mysql -p attached",
        "mysql -h db -u root -pS3cr3tPassw0rd app",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "mysql --password=",
        "mysqldump --password=S3cr3tPassw0rd app",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "PGPASSWORD",
        "PGPASSWORD=S3cr3tPassw0rd psql -h db",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "wget http-password",
        "wget --http-user=bob --http-password=S3cr3tPassw0rd https://x",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "curl --user",
        "curl --user bob:S3cr3tPassw0rd https://x",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "netrc",
        "machine api.example.com login bob password S3cr3tPassw0rd",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "digest response",
        'Authorization: Digest username="bob", realm="x", nonce="dcd98b7102dd2f0e8b11d0f600bfb0'
        'c093", response="6629fae49393a05397450978507c4ef1"',
        [
            "6629fae49393a05397450978507c4ef1",
        ],
    ),
    (
        "ec private key",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oCJvVN1ZzXLooA"
        "oGCCqGSM49\nAwEHoUQDQgAE7jr5kcNxJ5Ml8fGZ2xmJ5y8Ah2H3PJqrnk7mnN8Zg7zFg2jX1RkQ\n-----END"
        " EC PRIVATE KEY-----",
        [
            "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oCJvVN1ZzXLooAoGCCqGSM49",
        ],
    ),
    (
        "putty key",
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\nPublic-Lines: 2\nAAA"
        "AC3NzaC1lZDI1NTE5AAAAIOsTvb1xhBp4bkUfY8b1BhRvNqY9XWu3kM0fXq7w\nPrivate-Lines: 1\nAAAAI"
        "HkHxQ3rN5Rs4tP7dYvZm8Lq2sW9aJ0cKbE3fG6hI1jK\nPrivate-MAC: 9b1f5c8a7e6d4c3b2a1f0e9d8c7b"
        "6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b",
        [
            "AAAAIHkHxQ3rN5Rs4tP7dYvZm8Lq2sW9aJ0cKbE3fG6hI1jK",
        ],
    ),
    (
        "java keystore",
        "-Djavax.net.ssl.keyStorePassword=S3cr3tPassw0rd",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "spring datasource",
        "spring.datasource.password=S3cr3tPassw0rd",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "xml password",
        "<password>S3cr3tPassw0rd</password>",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "xml attr",
        '<add key="DbPassword" value="S3cr3tPassw0rd"/>',
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "ado.net",
        "Server=db;Database=app;User Id=sa;Password=S3cr3t;Passw0rd;",
        [
            "S3cr3t",
        ],
    ),
    (
        "ldap url",
        "ldap://cn=admin,dc=x:S3cr3tPassw0rd@ldap.example.com",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "python dict header",
        "{'Authorization': 'Bearer Xk9fA2bC3dE4fG5hI6jK7lM8n', 'Accept': '*/*'}",
        [
            "Xk9fA2bC3dE4fG5hI6jK7lM8n",
        ],
    ),
    (
        "vault header",
        "X-Vault-Token: s.Xk9fA2bC3dE4fG5hI6jK7lM8n",
        [
            "s.Xk9fA2bC3dE4fG5hI6jK7lM8n",
        ],
    ),
    (
        "npmrc",
        "//registry.npmjs.org/:_authToken=0b3c5d7e-1f2a-4b6c-8d0e-2f4a6b8c0d1e",
        [
            "0b3c5d7e-1f2a-4b6c-8d0e-2f4a6b8c0d1e",
        ],
    ),
    (
        "k8s secret b64 pem",
        "  tls.key: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVBdTFTVTFMZlZ"
        "MUEhDb3pNeEgyTW80bGdPRWVQek5tMHRSZ2VMZXpWNmZmQXQwZ3VuCg==",
        [
            "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVBdTFTVTFMZlZMUEhDb3"
            "pNeEgyTW80bGdPRWVQek5tMHRSZ2VMZXpWNmZmQXQwZ3VuCg==",
        ],
    ),
    (
        "k8s secret password b64",
        "  password: aHVudGVyMmh1bnRlcjI=",
        [
            "aHVudGVyMmh1bnRlcjI=",
        ],
    ),
    (
        "eth private key",
        "private_key=0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
        [
            "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
        ],
    ),
    (
        "bitcoin wif",
        "wif 5Kb8kLf9zgWQnogidDA76MzPL6TsZZY36hWXMssSzNydYXYB9KF imported",
        [
            "5Kb8kLf9zgWQnogidDA76MzPL6TsZZY36hWXMssSzNydYXYB9KF",
        ],
    ),
    (
        "tls keylog",
        "CLIENT_RANDOM 52362c10a2665e323a2adb4b9da0c10d4a8823719272f8b4c97af24f92784812 9f9a0f1"
        "9c9fc09d2d2fd9cd9fe2c0dbd0a8823719272f8b4c97af24f927848129f9a0f19c9fc09d2d2fd9cd9fe2c0"
        "dbd",
        [
            "9f9a0f19c9fc09d2d2fd9cd9fe2c0dbd0a8823719272f8b4c97af24f927848129f9a0f19c9fc09d2d2"
            "fd9cd9fe2c0dbd",
        ],
    ),
    (
        "pgpass",
        "db.example.com:5432:app:appuser:S3cr3tPassw0rd",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "shadow hash",
        "root:$6$rounds=5000$saltsalt$Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4zA5bC6dE7fG8hI9"
        "jK0lM1nO2pQ3rS4tU5vW6xY7zA8bC9d:19000:0:99999:7:::",
        [
            "Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4zA5bC6dE7fG8hI9jK0lM1nO2pQ3rS4tU5vW6xY7z"
            "A8bC9d",
        ],
    ),
    (
        "htpasswd apr1",
        "admin:$apr1$Xk9fA2bC$3dE4fG5hI6jK7lM8nO9pQ.",
        [
            "3dE4fG5hI6jK7lM8nO9pQ.",
        ],
    ),
    (
        "bcrypt",
        "hash $2b$12$Xk9fA2bC3dE4fG5hI6jK7ulM8nO9pQ0rS1tU2vW3xY4zA5bC6dE7f stored",
        [
            "Xk9fA2bC3dE4fG5hI6jK7ulM8nO9pQ0rS1tU2vW3xY4zA5bC6dE7f",
        ],
    ),
    (
        "k8s bootstrap",
        "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-h"
        "ash sha256:0123",
        [
            "0123456789abcdef",
        ],
    ),
    (
        "docker login -p",
        "docker login -u bob -p S3cr3tPassw0rd registry.example.com",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "redis-cli -a",
        "redis-cli -h cache -a S3cr3tPassw0rd ping",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "redis AUTH",
        "cmd=AUTH S3cr3tPassw0rd",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "urlenc auth header",
        "hdr=Authorization%3A%20Bearer%20Xk9fA2bC3dE4fG5hI6jK7lM8n",
        [
            "Xk9fA2bC3dE4fG5hI6jK7lM8n",
        ],
    ),
    (
        "anthropic admin",
        "sk-ant-admin01-Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4 ok",
        [
            "sk-ant-admin01-Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4",
        ],
    ),
    (
        "openai legacy",
        "sk-Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4zA5bC ok",
        [
            "sk-Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS1tU2vW3xY4zA5bC",
        ],
    ),
    (
        "json private_key escaped",
        '{"type":"service_account","private_key_id":"0123456789abcdef0123456789abcdef01234567",'
        '"private_key":"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjA'
        'gEAAoIBAQC7VJTUt9Us8cKj\\n-----END PRIVATE KEY-----\\n"}',
        [
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
            "0123456789abcdef0123456789abcdef01234567",
        ],
    ),
    (
        "private key one-line spaces",
        "key=-----BEGIN RSA PRIVATE KEY----- MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRg"
        "eLezV6ffAt0gun -----END RSA PRIVATE KEY-----",
        [
            "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        ],
    ),
    (
        "hf token",
        "hf_XkfAbCdEfGhIjKlMnOpQrStUvWxYzAbCdE",
        [
            "hf_XkfAbCdEfGhIjKlMnOpQrStUvWxYzAbCdE",
        ],
    ),
    (
        "azure devops pat",
        "AZDO_PERSONAL_ACCESS_TOKEN=abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst",
        [
            "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst",
        ],
    ),
    (
        "aws key lowercase context",
        "accessKeyId: AKIAIOSFODNN7EXAMPLE secretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMP"
        "LEKEY",
        [
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ],
    ),
    (
        "camelCase password",
        'dbPassword: "S3cr3tPassw0rd"',
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "clientSecret camel",
        '"clientSecret":"S3cr3tPassw0rd"',
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "x-api-key",
        "X-API-Key: Xk9fA2bC3dE4fG5hI6jK7lM8n",
        [
            "Xk9fA2bC3dE4fG5hI6jK7lM8n",
        ],
    ),
    (
        "ssn",
        "customer ssn 123-45-6789 on file",
        [
            "123-45-6789",
        ],
    ),
    (
        "iban",
        "refund to IBAN DE89370400440532013000",
        [
            "DE89370400440532013000",
        ],
    ),
    (
        "password json spaced",
        '"password" : "S3cr3tPassw0rd"',
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "password in url path",
        "GET /reset?user=bob&new_password=S3cr3tPassw0rd HTTP/1.1",
        [
            "S3cr3tPassw0rd",
        ],
    ),
    (
        "env export",
        "export DATABASE_URL=postgres://app:S3cr3t@db:5432/app",
        [
            "S3cr3t",
        ],
    ),
    (
        "dsn with ? in password",
        "mongodb://app:S3c?r3t#x@db:27017/app",
        [
            "S3c?r3t#x",
        ],
    ),
    (
        "dsn user only token",
        "https://Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS@github.com/org/repo.git",
        [
            "Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ0rS",
        ],
    ),
    (
        "git credential url oauth2",
        "https://oauth2:glpat-Xk9fA2bC3dE4fG5hI6jK7@gitlab.com/g/r.git",
        [
            "glpat-Xk9fA2bC3dE4fG5hI6jK7",
        ],
    ),
    (
        "sentry dsn",
        "SENTRY_DSN=https://0123456789abcdef0123456789abcdef@o123.ingest.sentry.io/456",
        [
            "0123456789abcdef0123456789abcdef",
        ],
    ),
    (
        "stripe in uppercase env",
        "STRIPE_KEY=sk_live_51H8abcDEFghiJKLmnoPQR",
        [
            "sk_live_51H8abcDEFghiJKLmnoPQR",
        ],
    ),
    (
        "generic hex 64 secret",
        "HMAC_SECRET=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        [
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ],
    ),
    (
        "signature query",
        "?Signature=Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ%3D&Expires=1",
        [
            "Xk9fA2bC3dE4fG5hI6jK7lM8nO9pQ",
        ],
    ),
    (
        "apikey query",
        "GET /v1/data?apiKey=Xk9fA2bC3dE4fG5hI6jK7lM8n&x=1",
        [
            "Xk9fA2bC3dE4fG5hI6jK7lM8n",
        ],
    ),
    (
        "key query",
        "GET /maps?key=Xk9fA2bC3dE4fG5hI6jK7lM8n",
        [
            "Xk9fA2bC3dE4fG5hI6jK7lM8n",
        ],
    ),
    (
        "code oauth",
        "GET /callback?code=4/0AX4XfWjXk9fA2bC3dE4fG5hI6jK7lM8n&state=x",
        [
            "4/0AX4XfWjXk9fA2bC3dE4fG5hI6jK7lM8n",
        ],
    ),
    (
        "json web key",
        '{"kty":"RSA","d":"X4cTteJY_gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoVH-HLLKD9M7dx5oo7GURknchn'
        "rRweUkC7hT5fJLM0WbFAKNLWY2vv7B6NqXSzUvxT0_YSfqijwp3RTzlBaCxWp4doFk5N2o8Gy_nHNKroADIkJ4"
        "6pRUohsXywbReAdYaMwFs9tv8d_cPVY3i07a3t8MN6TNwm0dSawm9v47UiCl3Sk5ZiG7xojPLu4sbg1U2jx4IB"
        "TNBznbJSzFHK66jT8bgkuqsk0GjskDJk19Z4qwjwbsnn4j2WBii3RL-Us2lGVkY8fkFzme1z0HbIkfz0Y6mqnO"
        'Ytqc0X4jfcKoAC8Q","n":"abc"}',
        [
            "X4cTteJY_gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoVH",
        ],
    ),
    # Other shapes of the same secrets: JSON inside a JSON string (escaped quotes and slashes),
    # Ruby/PHP/Perl `=>`, URL-encoded JSON, YAML block scalars, whole cookie headers, Go's
    # header maps, a URL whose user name is an email, and a run that hides a secret inside it.
    (
        "escaped json password",
        r'{"msg":"login {\"user\":\"app\",\"password\":\"hunter2Secret99\"}"}',
        ["hunter2Secret99"],
    ),
    (
        "escaped json db_password with space",
        r'payload="{\"db_password\": \"hunter2Secret99\", \"x\":1}"',
        ["hunter2Secret99"],
    ),
    (
        "escaped json aws secret with escaped slashes",
        r"{\"secret\":\"wJalrXUtnFEMI\/K7MDENG\/bPxRfiCYEXAMPLEKEY\"}",
        ["wJalrXUtnFEMI", "bPxRfiCYEXAMPLEKEY"],
    ),
    (
        "escaped json dsn",
        r'"url":"postgres:\/\/app:hunter2Secret99@db:5432\/orders"',
        ["hunter2Secret99"],
    ),
    (
        "url user is an email",
        "https://ops@example.com:hunter2Secret99@git.example.com/x",
        ["hunter2Secret99"],
    ),
    ("ruby hash rocket", ':password => "hunter2Secret99"', ["hunter2Secret99"]),
    ("php array", "'db_password' => 'hunter2Secret99',", ["hunter2Secret99"]),
    ("perl hash", "secret=>hunter2Secret99,", ["hunter2Secret99"]),
    (
        "url-encoded json",
        "data=%7B%22user%22%3A%22app%22%2C%22password%22%3A%22hunter2Secret99%22%7D",
        ["hunter2Secret99"],
    ),
    ("yaml literal block", "password: |\n  hunter2Secret99\n", ["hunter2Secret99"]),
    ("yaml folded block", "  api_key: >-\n    hunter2Secret99\n", ["hunter2Secret99"]),
    (
        "cookie header, every cookie",
        "Cookie: theme=dark; sessid=hunter2Secret99; _gh_sess=Zm9vYmFyYmF6cXV4",
        ["hunter2Secret99", "Zm9vYmFyYmF6cXV4"],
    ),
    (
        "cookie in a go header map",
        "headers=map[Cookie:[lang=en; session=hunter2Secret99]]",
        ["hunter2Secret99"],
    ),
    (
        "set-cookie in escaped json",
        r"{\"set-cookie\":\"sid=hunter2Secret99; Path=/\"}",
        ["hunter2Secret99"],
    ),
    (
        "authorization in a go header map",
        "map[Authorization:[Bearer hunter2Secret99xyz] Accept:[*/*]]",
        ["hunter2Secret99xyz"],
    ),
    ("html password input", '<input type="password" value="hunter2Secret99">', ["hunter2Secret99"]),
    (
        "jwt as a file name",
        "open /var/sessions/eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c.json failed",
        ["SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "eyJzdWIiOiIxMjM0NTY3ODkwIn0"],
    ),
    (
        "aws key id after an underscore",
        "cache/key_AKIAIOSFODNN7EXAMPLE_v2",
        ["AKIAIOSFODNN7EXAMPLE"],
    ),
    ("url-encoded email", "GET /unsubscribe?to=jane.doe%40example.com", ["jane.doe%40example.com"]),
    ("phone e.164", "sms to +14155552671 queued", ["+14155552671"]),
    ("phone international spaced", "callback +44 20 7946 0958 failed", ["20 7946 0958"]),
    ("phone north american", "customer phone (415) 555-2671", ["555-2671"]),
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
    "AUTH failed for user; signature=valid; GET /search?key=user:42&code=500",
    "mysql -h db -P 3306 -u app -p app; order 123-45-678 shipped; ssn 000-12-3456",
    "20171223-22:15:29:615|Step_LSC|30002312|onExtend:1514038530000 14 0 4",
    "<tokenCount>42</tokenCount> GB82 is a route; price $5 per $1 unit",
    "ts=2026-11-28T14:21:14+01:00 tz +0530 10.100.200.30 v1.2.3-4567 pid 4155552671",
    "retries +1 2026-11-28 14:21 delta +1000 +12.5ms",
    "yaml: |\n  plain text; cookies_enabled: true; => arrow",
    "GET https:\\/\\/api.example.com:8443\\/v1\\/a@b 200",
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
    # Formats found leaking by the audit, each its own search hit.
    add("netrc: machine api.example.com login bob password Netrc5ecretPw")
    add("restore: mysql -h db -u root -pMysq1Attached app < dump.sql")
    add("Authorization: SSWS 00QCjAl4MlV-WPXM0Xk9fA2bC3dE4fG5hI6jK7lM8n")
    add("PuTTY key: Private-Lines: 1")
    add("AAAAIHkHxQ3rN5Rs4tP7dYvZm8Lq2sW9aJ0cKbE3fG6hI1jK")
    add("signed GET /b/o?X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe28&x=1")
    # Shapes found leaking by the second audit: escaped JSON, whole cookie headers, `=>`.
    add(r'body="{\"user\":\"app\",\"password\":\"Esc4pedJs0nPw\"}"')
    add("headers Cookie: theme=dark; sessid=C00kieSess10n; lang=en")
    add(":password => 'RubyR0cketPw'")
    log.write_text("\n".join(lines) + "\n")
    config = tmp_path / "cockpit.toml"
    config.write_text(
        "[cockpit]\nstore = 'incidents.db'\n"
        "[[sources]]\nkind = 'files'\nname = 'app'\nservice = 'app'\npaths = ['logs/app.log']\n"
    )
    return config


LEAKS = [
    *RSA_BODY,
    "AKIAIOSF",
    "ssW0rd",
    AZURE_KEY[:16],
    "deadBEEF1234",
    "Netrc5ecretPw",
    "Mysq1Attached",
    "00QCjAl4MlV",
    "AAAAIHkHxQ3rN5Rs4tP7",
    "fe5f80f77d5fa3be",
    "Esc4pedJs0nPw",
    "C00kieSess10n",
    "RubyR0cketPw",
]


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
