"""Glue the composite GitHub Action (action.yml) calls: event payload, PR comment, step outputs, verdict.

Run as `python -m prodaudit.gh SUBCOMMAND`; every input comes from the environment the runner sets
(and the action's `env:` blocks), never from text spliced into a shell script.
"""
