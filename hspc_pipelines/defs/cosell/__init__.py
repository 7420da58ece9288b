"""Co-sell flows in Dagster: assets (`assets.py`) and their jobs and schedules (`jobs.py`).

Jobs `sync_invitations`, `submit_opportunity`, `sync_aws_summaries`; schedules `invitations_schedule`
(HSPC_INVITATIONS_CRON, every 15 minutes) and `aws_summaries_schedule` (HSPC_AWS_SUMMARIES_CRON,
hourly). Resources are the code location's (`hubspot`, `partner_central`, `sync_state`, `mapping`,
`io_manager`).
"""
