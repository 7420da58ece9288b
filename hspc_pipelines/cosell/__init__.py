"""Co-sell flows with AWS: invitations, submission, AWS summaries; each its rules (pure) and its run (I/O)."""
