"""The task console: a browser view of the stack organised by task, served on loopback.

`ftb console` (a deployed stack, or the local cloud) and `ftb local` (as a companion process)
serve it. Every figure it shows is read through the same target resolution and the same task
domain as the operator commands (ftb/ops/tasks.py, task_domain): the console adds views, never
rules of its own.
"""
