"""A test CDK app: the real stack plus FIS experiment templates in AWS's CloudFormation shape
(tests/reliability/test_chaos_experiments.py, tests/integration/localcloud/test_fis_*)."""
