"""The local cloud: runs any synthesized CDK app on this machine (no AWS account, no Docker)."""
