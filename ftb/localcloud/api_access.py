"""Who may call the local API, and how the banner tells a user to call it.

The local cloud has one AWS principal: requests to AWS_IAM methods must be signed with its
credentials (SigV4, service `execute-api`, the local cloud's region), exactly as a deployed
stack requires a signature of a principal its policy allows. They are fixed and printed, like
LocalStack's `test`/`test`: the point is that a client that forgets to sign fails here as it
would on AWS, not secrecy (the API listens on this machine only). API keys are generated at
each start (api_keys.py) and printed too.
"""

from __future__ import annotations

import shlex

from ftb.localcloud.apigateway.api_keys import API_KEY_HEADER, UsagePlans
from ftb.localcloud.apigateway.models import RestApi
from ftb.localcloud.apigateway.sigv4 import SERVICE, LocalCredentials

LOCAL_CREDENTIALS = LocalCredentials(
    access_key_id="ftb-local", secret_access_key="ftb-local-secret"
)


def authorization_of(api: RestApi) -> set[str]:
    """How the API's methods are protected: {"AWS_IAM"}, {"API_KEY"}, {"NONE"} or a mix."""
    kinds = set()
    for method in api.methods.values():
        if method.mock is not None and method.http_method == "OPTIONS":
            continue  # CORS preflight
        if method.authorization != "NONE":
            kinds.add(method.authorization)
        if method.api_key_required:
            kinds.add("API_KEY")
        if method.authorization == "NONE" and not method.api_key_required:
            kinds.add("NONE")
    return kinds


def curl_auth(api: RestApi | None, region: str, usage_plans: UsagePlans) -> str:
    """The curl arguments that let a request in (empty for an open API)."""
    if api is None:
        return ""
    kinds = authorization_of(api)
    parts = []
    if "AWS_IAM" in kinds:
        credentials = LOCAL_CREDENTIALS
        parts += [
            # As the README writes it; region names need no escaping in double quotes.
            f'--aws-sigv4 "aws:amz:{region}:{SERVICE}"',
            f"--user {shlex.quote(f'{credentials.access_key_id}:{credentials.secret_access_key}')}",
        ]
    if "API_KEY" in kinds:
        key = next(iter(usage_plans.keys.values()), None)
        if key is not None:
            parts.append(f"-H {shlex.quote(f'{API_KEY_HEADER}: {key.value}')}")
    return " ".join(parts)


def banner_lines(apis: list[RestApi], region: str, usage_plans: UsagePlans) -> list[str]:
    kinds = set().union(*(authorization_of(api) for api in apis)) if apis else set()
    lines = []
    if "AWS_IAM" in kinds:
        credentials = LOCAL_CREDENTIALS
        lines.append(
            f"  API auth      AWS_IAM: sign with SigV4 ({SERVICE}, {region}), access key "
            f"{credentials.access_key_id}, secret {credentials.secret_access_key}"
        )
    if "API_KEY" in kinds:
        for key in usage_plans.keys.values():
            lines.append(
                f"  API key       {key.name} (id {key.id}): {key.value}  "
                f"(header {API_KEY_HEADER}; generated at this start)"
            )
    if kinds == {"NONE"}:
        lines.append("  API auth      none: the API is open (as the template defines it)")
    return lines
