"""moto_server with IAM enforcement on, and two fixes where moto 5.2.1 differs from AWS (nothing else is patched).

moto (server mode) verifies a request's signature against the URL as werkzeug hands it over, whose query
went through uri_to_iri: `prefix=dev%2F` arrives as `prefix=dev/`, so every request with '/' (or another
escaped character) in a query value, such as ListObjectsV2 with a prefix, fails with SignatureDoesNotMatch.
This re-encodes the query as SigV4 canonicalizes it (RFC 3986 unreserved characters kept) before moto
recomputes the signature. Policy evaluation stays moto's own.

And STS AssumeRoleWithWebIdentity (and AssumeRoleWithSAML) go unauthenticated, as on AWS ("You do not need to use
AWS security credentials to call AssumeRoleWithWebIdentity", STS API reference): moto authenticates every action,
so with IAM on it answered the SDK's unsigned request with a 500. moto does not check the token or the role's trust
policy (tests/components/aws/webIdentity.test.ts decides trust); the credentials it returns carry the role's policies.

Usage: python3 moto_iam_server.py -H 127.0.0.1 -p <port>. IAM is enforced once the test POSTs
/moto-api/reset-auth (see tests/support/moto.ts).
"""

import sys
from urllib.parse import quote, unquote

from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam import access_control
from moto.server import main

_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _canonical(part: str) -> str:
    return quote(unquote(part), safe="-_.~")


def _create_aws_request_with_encoded_query(self):  # type: ignore[no-untyped-def]
    path, question, query = self._path.partition("?")
    if question:
        pairs = (pair.partition("=") for pair in query.split("&"))
        self._path = f"{path}?" + "&".join(f"{_canonical(key)}={_canonical(value)}" for key, _, value in pairs)
    return _create_aws_request(self)


access_control.IAMRequestBase._create_aws_request = _create_aws_request_with_encoded_query

_authenticate_normal_action = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action
UNSIGNED_STS_ACTIONS = {"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}


def _authenticate_unless_unsigned_sts(self, resource="*"):  # type: ignore[no-untyped-def]
    if type(self).__module__.startswith("moto.sts.") and self._get_action() in UNSIGNED_STS_ACTIONS:
        return None
    return _authenticate_normal_action(self, resource)


ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = _authenticate_unless_unsigned_sts

if __name__ == "__main__":
    main(sys.argv[1:])
