"""What the chaos test app names and sets (shared with the tests, without CDK)."""

PARTIAL_FAILURE = "process-task-partial-failure"
TOTAL_FAILURE = "process-task-total-failure"
START_DELAY = "start-execution-delay"
SUBMIT_ERRORS = "submit-task-errors"
EXPERIMENTS = (PARTIAL_FAILURE, TOTAL_FAILURE, START_DELAY, SUBMIT_ERRORS)

# Scaled time (docs/decisions.md "Reliability suites run in scaled time"): seconds, not minutes.
PARTIAL_DURATION = "PT20S"
PARTIAL_PERCENT = 30
TOTAL_DURATION = "PT3M"  # long: its stop condition is what ends it
DELAY_DURATION = "PT15S"
DELAY_MILLISECONDS = 1500
SUBMIT_DURATION = "PT15S"
SUBMIT_PERCENT = 25  # a request fails all 8 client attempts 0.25**8 of the time: never a flake
SUBMIT_STATUS = 503

# The stop conditions: the stack's alarms (infra/constructs/alarms.py), by construct id.
STOP_ALARMS = {
    PARTIAL_FAILURE: "ProcessTaskErrorRate",  # 50 %: 30 % injected stays under it
    TOTAL_FAILURE: "DeadLetteredTasks",
    START_DELAY: "TaskQueueOldestMessage",
    SUBMIT_ERRORS: "SubmitTaskErrors",
}
TARGET_TAG = ("chaos-target", "process-task")  # process-task is targeted by tag, others by ARN
FIS_LAYER_PARAMETER = "/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x"
