"""The local cloud's clients come from the session moto lists regions with."""

from __future__ import annotations

from moto.core.base_backend import AccountSpecificBackend

from ftb.localcloud.moto_internals.session import make_client, shared_session


def test_clients_share_motos_session_and_keep_their_own_credentials() -> None:
    # Given moto's region-listing session
    motos = AccountSpecificBackend.get_session()
    # When the local cloud makes two clients with different credentials and regions
    sqs = make_client(
        "sqs",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="first",
        aws_secret_access_key="first-secret",
    )
    logs = make_client(
        "logs",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="second",
        aws_secret_access_key="second-secret",
    )
    # Then both come from moto's session, which holds no credentials of theirs
    assert shared_session() is motos
    credentials = motos.get_credentials()
    assert credentials is None or credentials.access_key not in {
        "first",
        "second",
    }
    # And each client signs with its own credentials, in its own region
    assert sqs._request_signer._credentials.access_key == "first"
    assert logs._request_signer._credentials.access_key == "second"
    assert (sqs.meta.region_name, logs.meta.region_name) == ("eu-west-1", "us-east-1")
