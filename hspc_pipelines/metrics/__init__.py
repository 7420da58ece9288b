"""A run's figures (pure): what each run records as asset metadata and, in production, prints as
CloudWatch embedded metric format lines (docs/production.md, "Metrics")."""
