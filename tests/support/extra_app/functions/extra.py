"""The extra function: an SQS consumer, an API route and a sleeper, by event shape.

- SQS batch: prints one JSON line per record ({"echo": body}); a body "fail" is reported in
  batchItemFailures.
- API Gateway proxy event: answers 200 with what it received (path parameters, query, stage).
- anything else: sleeps `seconds` (to outlive the function's timeout), then echoes the event.
"""

import json
import os
import time


def handler(event, context):
    if "Records" in event:
        failures = []
        for record in event["Records"]:
            print(json.dumps({"echo": record["body"], "messageId": record["messageId"]}))
            if record["body"] == "fail":
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}
    if "httpMethod" in event:
        seconds = float((event.get("queryStringParameters") or {}).get("sleep", "0"))
        time.sleep(seconds)
        body = {
            "greeting": os.environ["GREETING"],
            "pathParameters": event["pathParameters"],
            "query": event["multiValueQueryStringParameters"],
            "resource": event["resource"],
            "stage": event["requestContext"]["stage"],
            "sourceIp": event["requestContext"]["identity"]["sourceIp"],
        }
        return {"statusCode": 200, "headers": {"X-Extra": "yes"}, "body": json.dumps(body)}
    time.sleep(float(event.get("seconds", 0)))
    return {"echo": event, "remainingMs": context.get_remaining_time_in_millis()}
