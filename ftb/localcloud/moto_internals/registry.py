"""Every internal of moto the local cloud patches (`PATCHES`) or reads (`READS`), in one list.

`ftb local` checks them all before it starts (`check_installed_moto`); the patch modules of
this package take their targets from here, so a patch cannot skip the check.
"""

from __future__ import annotations

from ftb.localcloud.moto_internals.wall import (
    Fields,
    Function,
    Instance,
    Present,
    Property,
    Target,
    check,
)

# -- Patches (hot_paths.py, engine_caches.py, sqs.py) -------------------------------------------

UNIX_TIME = Target(
    "moto.core.utils", "unix_time", Function(("dt",)), "time.time() for now (hot_paths)"
)
UNIX_TIME_MILLIS = Target(
    "moto.core.utils", "unix_time_millis", Function(("dt",)), "time.time() for now (hot_paths)"
)
UTCNOW = Target("moto.core.utils", "utcnow", Function(()), "no import per call (hot_paths)")
METHOD_NAMES = Target(
    "moto.core.utils",
    "method_names_from_class",
    Function(("clazz",)),
    "method names once per class (hot_paths)",
)
JSON_PATH_PARSE = Target(
    "moto.stepfunctions.parser.asl.utils.json_path",
    "parse",
    Function(("path", "debug")),
    "one JSONPath parse per path text (hot_paths)",
)
RESULT_PATH_PARSE = Target(
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
    "parse",
    Function(("string",)),
    "one JSONPath parse per path text (hot_paths)",
)
MOTO_MODULES = Target(
    "moto.backends",
    "list_of_moto_modules",
    Function(()),
    "moto's directory listed once, not per request (engine_caches)",
)
EVALUATION_ENTRYPOINT = Target(
    "moto.stepfunctions.parser.backend.execution_worker",
    "ExecutionWorker._get_evaluation_entrypoint",
    Function(()),
    "one parse tree per definition (engine_caches)",
)
BOTO_CLIENT_FOR = Target(
    "moto.stepfunctions.parser.asl.utils.boto_client",
    "boto_client_for",
    Function(("region", "service", "state_credentials")),
    "one engine client per region and service (engine_caches)",
)
PENDING_MESSAGE_GROUPS = Target(
    "moto.sqs.models",
    "Queue.pending_message_groups",
    Property(),
    "read a copy of the in-flight set: concurrent receives (sqs)",
)

# Concurrent calls on one queue (sqs_races.py): each holds the queue's lock; a receive's
# scans hold the snapshot gate.
SQS_RECEIVE_MESSAGE = Target(
    "moto.sqs.models",
    "SQSBackend.receive_message",
    Function(
        (
            "queue_name",
            "count",
            "wait_seconds_timeout",
            "visibility_timeout",
            "message_attribute_names",
        )
    ),
    "receives one scan at a time, gated for snapshots (sqs_races)",
)
SQS_DELETE_MESSAGE = Target(
    "moto.sqs.models",
    "Queue.delete_message",
    Function(("receipt_handle",)),
    "deletes under the queue's lock (sqs_races)",
)
SQS_CHANGE_VISIBILITY = Target(
    "moto.sqs.models",
    "SQSBackend.change_message_visibility",
    Function(("queue_name", "receipt_handle", "visibility_timeout")),
    "visibility changes under the queue's lock (sqs_races)",
)
SQS_PURGE_QUEUE = Target(
    "moto.sqs.models",
    "SQSBackend.purge_queue",
    Function(("queue_name",)),
    "purges under the queue's lock (sqs_races)",
)

PATCHES: tuple[Target, ...] = (
    UNIX_TIME,
    UNIX_TIME_MILLIS,
    UTCNOW,
    METHOD_NAMES,
    JSON_PATH_PARSE,
    RESULT_PATH_PARSE,
    MOTO_MODULES,
    EVALUATION_ENTRYPOINT,
    BOTO_CLIENT_FOR,
    PENDING_MESSAGE_GROUPS,
    SQS_RECEIVE_MESSAGE,
    SQS_DELETE_MESSAGE,
    SQS_CHANGE_VISIBILITY,
    SQS_PURGE_QUEUE,
)

# -- Reads (what the patches call, the server app, the backends, persistence, the reads) --------

_BACKEND_DICT = Instance("moto.core.base_backend", "BackendDict")

READS: tuple[Target, ...] = (
    # What the replacements call or mirror.
    Target("moto.core.models", "botocore_stubber", Present(), "engine clients: decorator mode"),
    Target("moto.settings", "moto_server_port", Function(()), "engine clients: the port"),
    Target(
        "moto.stepfunctions.parser.asl.parse.asl_parser",
        "AmazonStateLanguageParser.parse",
        Function(("definition",)),
        "the parse cache parses with it",
    ),
    Target(
        "moto.stepfunctions.parser.asl.parse.preprocessor",
        "Preprocessor",
        Fields(("visit",)),
        "the parse cache builds components with it",
    ),
    Target(
        "moto.stepfunctions.parser.backend.execution_worker",
        "ExecutionWorker",
        Fields(("_evaluation_details", "env")),
        "the parse cache reads the definition; the reads read the history",
    ),
    Target(
        "moto.core.base_backend",
        "AccountSpecificBackend.get_session",
        Function(()),
        "one boto3 session for moto's region lists and our clients (session)",
    ),
    # The server application and its configuration (server_app.py).
    Target(
        "moto.moto_server.werkzeug_app",
        "DomainDispatcherApplication",
        Fields(("__call__",)),
        "the endpoint's moto application",
    ),
    Target("moto.moto_server.werkzeug_app", "MotoRequestHandler", Present(), "request handler"),
    Target(
        "moto.moto_server.werkzeug_app",
        "create_backend_app",
        Function(("service",)),
        "the endpoint's moto application",
    ),
    Target(
        "moto.core.config",
        "default_user_config",
        Instance("builtins", "dict"),
        "turns on the Step Functions engine",
    ),
    # The refusals (dispatch.py): moto's response classes dispatch operations by method name.
    Target(
        "moto.core.utils",
        "camelcase_to_underscores",
        Function(("argument",)),
        "operation name -> moto's method",
    ),
    Target("moto.sqs.responses", "SQSResponse", Present(), "operations moto implements"),
    Target("moto.dynamodb.responses", "DynamoHandler", Present(), "operations moto implements"),
    Target(
        "moto.dynamodbstreams.responses",
        "DynamoDBStreamsHandler",
        Present(),
        "operations moto implements",
    ),
    Target(
        "moto.stepfunctions.responses",
        "StepFunctionResponse",
        Present(),
        "operations moto implements",
    ),
    Target("moto.logs.responses", "LogsResponse", Present(), "operations moto implements"),
    # (moto's Lambda and CloudFormation are never consulted at run time, refusals.py: their
    # response classes, whose import loads every service's models, are not checked at start.)
    # moto's service errors, answered by the Step Functions reads (errors.py).
    Target(
        "moto.core.exceptions",
        "JsonRESTError",
        Fields(("error_type", "message", "code")),
        "the reads answer moto's not-found errors",
    ),
    # Backends (backends.py) and the accounts Logs Insights reads for (logs.py).
    Target("moto.backends", "get_backend", Function(("name",)), "the backends of this process"),
    Target(
        "moto.stepfunctions.parser.models",
        "stepfunctions_parser_backends",
        _BACKEND_DICT,
        "the engine's backends",
    ),
    Target(
        "moto.stepfunctions.responses",
        "get_backend",
        Function(("account", "region")),
        "the Step Functions reads' backend",
    ),
    Target("moto.logs.models", "logs_backends", _BACKEND_DICT, "Logs Insights' log events"),
    Target("moto.core", "DEFAULT_ACCOUNT_ID", Instance("builtins", "str"), "default account"),
    Target(
        "moto.iam.models",
        "get_account_id_from",
        Function(("access_key",)),
        "a request's account, as moto tells it",
    ),
    # SQS (sqs_races.py filters a received message's attributes as moto's receive does).
    Target(
        "moto.sqs.models",
        "_filter_message_attributes",
        Function(("message", "input_message_attributes")),
        "the gated receive answers as moto's",
    ),
    # The local CloudWatch's samples (metric_sources.py).
    Target("moto.sqs.models", "sqs_backends", _BACKEND_DICT, "queue depth and oldest age"),
    # SQS (persistence/sqs.py).
    Target("moto.sqs.models", "SQSBackend", Fields(("queues",)), "snapshots"),
    Target(
        "moto.sqs.models",
        "Queue",
        Fields(("_messages", "_messages_lock", "_pending_messages", "fifo_queue")),
        "snapshots; the race fix",
    ),
    Target(
        "moto.sqs.models",
        "Message",
        Fields(
            (
                "id",
                "body",
                "message_attributes",
                "system_attributes",
                "sender_id",
                "sent_timestamp",
                "approximate_first_receive_timestamp",
                "approximate_receive_count",
                "deduplication_id",
                "group_id",
                "sequence_number",
                "visible_at",
                "delayed_until",
            ),
            init=("message_id", "body", "system_attributes"),
        ),
        "snapshots",
    ),
    # DynamoDB (persistence/dynamodb.py).
    Target("moto.dynamodb.models", "DynamoDBBackend", Fields(("tables", "get_table")), "snapshots"),
    Target(
        "moto.dynamodb.models.table",
        "Table",
        Fields(("schema", "all_items", "put_item")),
        "snapshots",
    ),
    Target("moto.dynamodb.models.dynamo_type", "Item", Fields(("to_json",)), "snapshots"),
    # CloudWatch Logs (persistence/logs.py, logs_insights).
    Target("moto.logs.models", "LogsBackend", Fields(("groups", "create_log_group")), "snapshots"),
    Target(
        "moto.logs.models",
        "LogGroup",
        Fields(("streams", "retention_in_days", "create_log_stream")),
        "snapshots, Logs Insights",
    ),
    Target(
        "moto.logs.models",
        "LogStream",
        Fields(("events", "stored_bytes", "_update")),
        "snapshots, Logs Insights",
    ),
    Target(
        "moto.logs.models",
        "LogEvent",
        Fields(("timestamp", "ingestion_time", "message"), init=("ingestion_time", "log_event")),
        "snapshots, Logs Insights",
    ),
    # Step Functions (persistence/stepfunctions.py, stepfunctions_reads).
    Target(
        "moto.stepfunctions.models",
        "StepFunctionBackend",
        Fields(("state_machines", "describe_state_machine", "describe_execution", "account_id")),
        "snapshots, the reads",
    ),
    Target(
        "moto.stepfunctions.models",
        "StateMachine",
        Fields(
            (
                "executions",
                "backend",
                "sm_type",
                "roleArn",
                "arn",
                "name",
                "definition",
                "update_date",
                "loggingConfiguration",
                "tracingConfiguration",
                "encryptionConfiguration",
            )
        ),
        "snapshots, the reads",
    ),
    Target(
        "moto.stepfunctions.parser.backend.execution",
        "Execution",
        Fields(
            (
                "name",
                "exec_arn",
                "status",
                "exec_status",
                "input_data",
                "start_date",
                "stop_date",
                "trace_header",
                "output",
                "error",
                "cause",
                "exec_worker",
                "state_machine",
                "state_machine_arn",
                "to_history_output",
                "start",
            ),
            init=(
                "name",
                "sm_type",
                "role_arn",
                "exec_arn",
                "account_id",
                "region_name",
                "state_machine",
                "start_date",
                "cloud_watch_logging_session",
                "input_data",
                "trace_header",
                "activity_store",
            ),
        ),
        "snapshots, the reads",
    ),
    Target("moto.stepfunctions.parser.api", "ExecutionStatus", Present(), "snapshots"),
    Target(
        "moto.stepfunctions.parser.asl.eval.environment",
        "Environment",
        Fields(("event_manager", "callback_pool_manager", "map_run_record_pool_manager")),
        "the reads; a restored execution stands in for it",
    ),
)


def check_installed_moto() -> list[str]:
    """Every patched or read target that the installed moto lacks or has changed, and every
    package whose `__init__` the engine defers that is no longer a package."""
    from ftb.localcloud.moto_internals.deferred_packages import (
        defer_engine_packages,
        deferral_problems,
    )

    defer_engine_packages()  # before a target's import would run moto.batch's __init__
    return deferral_problems() + check(PATCHES) + check(READS)
