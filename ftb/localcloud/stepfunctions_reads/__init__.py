"""Step Functions' execution reads (GetExecutionHistory, ListExecutions, DescribeExecution,
DescribeStateMachineForExecution) answered as AWS answers them, over moto's engine."""

from ftb.localcloud.stepfunctions_reads.handler import StepFunctionsReads

__all__ = ["StepFunctionsReads"]
