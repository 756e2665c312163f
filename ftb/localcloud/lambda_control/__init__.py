"""Lambda's control plane for the stack's functions, beyond what the runtime itself answers:
the deployment package (`code_package`), the template's tags and permissions
(`function_resources`), the read-only function sub-resources (`function_api`), and the SQS
event source mappings with pause and resume (`event_source_mappings`).

Kept import-free: `lambda_runtime.control_api` imports `code_package` from here.
"""
