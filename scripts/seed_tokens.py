"""Tokens the seeds' own Flask routes accept (issue 13, item 12).

Run by scripts/seed-tokens.sh against a running Tessera (base URL as the only
argument; JWT_SECRET_KEY, JWT_AUDIENCE and JWT_ISSUER in the environment, as
Tessera has them). Logs in through every dialect, then lets a tiny Flask app
with Flask-JWT-Extended, routes shaped like those of seed 001 (dream) and
seed 003 (SH-Drug), accept each token and read the identity that seed's
routes expect: the e-mail address for 001's tokens (`get_jwt_identity()`,
plus `role`, `permissions`, `is_superuser`, `is_admin`), the account id that
`/api/auth/me` shows for the others (`int(get_jwt_identity())`). Tokens
signed with another key, and an app expecting another audience, refuse. Prints one line per check and `N passed, M failed`; exits 1 on any
failure.
"""

import json
import os
import sys
import urllib.request

from flask import Flask, jsonify
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    get_jwt,
    get_jwt_identity,
    jwt_required,
)

BASE = sys.argv[1].rstrip("/")
SECRET = os.environ["JWT_SECRET_KEY"]
AUDIENCE = os.environ["JWT_AUDIENCE"]
ISSUER = os.environ["JWT_ISSUER"]

ROOT = ("root@example.com", "Seed-Admin-Pass-1")
ALICE = ("alice@example.com", "Seed-User-Pass-1")


def call(method, path, body=None, token=None):
    """(status, JSON body) of one request to Tessera."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def flask_app(**settings):
    """A Flask app as a seed configures it, with routes shaped like the seeds'."""
    app = Flask("seed-routes")
    app.config["JWT_SECRET_KEY"] = SECRET
    app.config.update(settings)
    JWTManager(app)

    # dream (001): the identity is the e-mail address.
    @app.route("/User/GetUserInfo")
    @jwt_required()
    def dream_user_info():
        claims = get_jwt()
        return jsonify(
            Email=get_jwt_identity(),
            role=claims.get("role"),
            permissions=claims.get("permissions"),
            is_superuser=claims.get("is_superuser"),
            is_admin=claims.get("is_admin"),
        )

    # dream's admin routes compare the identity with the admin's address.
    @app.route("/Admin/GetLogs")
    @jwt_required()
    def dream_admin_logs():
        return jsonify(Email=get_jwt_identity(), is_admin=get_jwt().get("is_admin"))

    # SH-Drug (003): `int(get_jwt_identity())` is the user id.
    @app.route("/api/orders")
    @jwt_required()
    def sh_drug_orders():
        return jsonify(user_id=int(get_jwt_identity()))

    return app


results = []


def check(what, ok, detail=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else ": " + str(detail)))


def get(app, path, token):
    r = app.test_client().get(path, headers={"Authorization": "Bearer " + token})
    return r.status_code, r.get_json()


# Accounts: a super_admin and a user, both made by `tessera user create`
# (scripts/seed-tokens.sh) with verified addresses: only a verified address
# is presented in seed 001's `sub`.
status, body = call("POST", "/api/auth/login", {"username": ALICE[0], "password": ALICE[1]})
assert status == 200, (status, body)
alice_modern = body["access_token"]
status, me = call("GET", "/api/auth/me", token=alice_modern)
alice_id = me["user"]["id"]
status, body = call("POST", "/api/v1/auth/login", {"email": ALICE[0], "password": ALICE[1]})
assert status == 200, (status, body)
alice_v1 = body["token"]
status, body = call("POST", "/Auth/Login", {"Email": ALICE[0], "Password": ALICE[1]})
assert body.get("Code") == 200, body
alice_dream, alice_refresh = body["Token"], body["RefreshToken"]
status, body = call("POST", "/Auth/Login", {"Email": ROOT[0], "Password": ROOT[1]})
assert body.get("Code") == 202, body
root_dream = body["Token"]
status, body = call("POST", "/Admin/Login", {"Email": ROOT[0], "Password": ROOT[1]})
assert body.get("Code") == 200, body
root_admin = body["Token"]

# The two settings docs/api.md names, and the same with the issuer checked too.
for label, app in [
    ("secret + audience", flask_app(JWT_DECODE_AUDIENCE=AUDIENCE)),
    (
        "secret + audience + issuer",
        flask_app(JWT_DECODE_AUDIENCE=AUDIENCE, JWT_DECODE_ISSUER=ISSUER),
    ),
]:
    status, body = get(app, "/User/GetUserInfo", alice_dream)
    check(
        f"[{label}] /Auth/Login token: dream reads the address and claims",
        status == 200
        and body["Email"] == ALICE[0]
        and body["role"] == "unauth"
        and body["permissions"] == ["profile:read", "profile:update"]
        and body["is_superuser"] is False
        and body["is_admin"] is False,
        (status, body),
    )
    status, body = get(app, "/User/GetUserInfo", root_dream)
    check(
        f"[{label}] a super_admin's /Auth/Login token says is_superuser",
        status == 200
        and body["Email"] == ROOT[0]
        and body["role"] == "super_admin"
        and body["is_superuser"] is True
        and body["is_admin"] is False
        and "user:delete" in body["permissions"],
        (status, body),
    )
    status, body = get(app, "/Admin/GetLogs", root_admin)
    check(
        f"[{label}] /Admin/Login token: dream's admin route reads the address and is_admin",
        status == 200 and body == {"Email": ROOT[0], "is_admin": True},
        (status, body),
    )
    for route, token in [("/api/auth/login", alice_modern), ("/api/v1/auth/login", alice_v1)]:
        status, body = get(app, "/api/orders", token)
        check(
            f"[{label}] {route} token: SH-Drug's int(get_jwt_identity()) is /me's id",
            status == 200 and body == {"user_id": alice_id},
            (status, body, alice_id),
        )

app = flask_app(JWT_DECODE_AUDIENCE=AUDIENCE)
forged = flask_app(JWT_DECODE_AUDIENCE=AUDIENCE)
forged.config["JWT_SECRET_KEY"] = "another-secret-another-secret-another-secret"
with forged.app_context():
    other_key = create_access_token(identity=ROOT[0], additional_claims={"is_admin": True})
status, body = get(app, "/Admin/GetLogs", other_key)
check(
    "a token signed with another secret is refused",
    status == 422 and body == {"msg": "Signature verification failed"},
    (status, body),
)
status, body = get(forged, "/User/GetUserInfo", alice_dream)
check(
    "Tessera's token is refused by an app with another secret",
    status == 422 and body == {"msg": "Signature verification failed"},
    (status, body),
)
tampered = alice_dream[:-2] + ("AA" if not alice_dream.endswith("AA") else "BB")
status, body = get(app, "/User/GetUserInfo", tampered)
check("a tampered token is refused", status == 422, (status, body))
status, body = get(app, "/User/GetUserInfo", alice_refresh)
check(
    "the opaque refresh token is no JWT",
    status == 422 and body == {"msg": "Not enough segments"},
    (status, body),
)
status, body = get(flask_app(JWT_DECODE_AUDIENCE="someone-else"), "/User/GetUserInfo", alice_dream)
check(
    "an app expecting another audience refuses the token",
    status == 422 and body == {"msg": "Audience doesn't match"},
    (status, body),
)
# Flask-JWT-Extended checks `aud` only when JWT_DECODE_AUDIENCE is set
# (docs/api.md recommends setting it); without it the token is accepted.
status, body = get(flask_app(), "/User/GetUserInfo", alice_dream)
check(
    "without JWT_DECODE_AUDIENCE the audience is not checked",
    status == 200 and body["Email"] == ALICE[0],
    (status, body),
)

failed = results.count(False)
print(f"seed tokens: {len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
