"""AWS summaries, insights and resource snapshots on the deal: rules (pure) and the run."""
