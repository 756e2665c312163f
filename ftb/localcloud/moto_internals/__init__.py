"""The wall around moto: every import of moto and every patch of it, in one package.

The rest of the local cloud calls these modules' functions and never imports moto (an
import-linter contract in pyproject.toml keeps it so). Each patch goes through
`wall.replace`, which checks its target's shape; `registry` lists every internal patched or
read, and `ftb local` checks them all before it starts (docs/local-cloud.md, "The wall").

- wall.py: the patch helper, the shapes, the check and its refusal message
- registry.py: every target, patched or read
- install.py: installs every patch
- hot_paths.py: moto's clock, JSONPath and method-name helpers, made cheap
- engine_caches.py: the Step Functions engine's clients and parse trees, kept
- deferred_packages.py: moto.batch's `__init__` run at first use
- sqs.py: the receive race fixed; messages for snapshots
- session.py: one boto3 session shared with moto's region lists
- server_app.py: moto's WSGI application and the Step Functions engine switch
- dispatch.py: the operations moto implements (for the refusals)
- backends.py, stepfunctions.py, logs.py: what persistence, the reads and Logs Insights read
"""
