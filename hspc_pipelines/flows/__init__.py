"""The co-sell flows that start on the AWS side or ask AWS for something: invitations, submission,
AWS summaries (insights, team, review, notifications) and resource snapshots.

I/O through the project's clients only; no Dagster here (the wiring is `hspc_pipelines.defs.cosell`).
Pure decisions live in `hspc_pipelines.sync` (invitation_rules, cosell_steps, aws_summary, notes).
"""
