"""Amazon API Gateway (REST): the APIs the local API server (ftb/localcloud/apigateway)
routes; rebuilt from the template on every reload, as they hold no data."""

from __future__ import annotations

from ftb.localcloud.provision import PROVISIONERS
from ftb.localcloud.registry import Service, register

PREFIX = "AWS::ApiGateway::"

register(
    Service(
        name="apigateway",
        signing_name="apigateway",
        provisioners={kind: fn for kind, fn in PROVISIONERS.items() if kind.startswith(PREFIX)},
        rebuilt_prefixes=(PREFIX,),
    )
)
