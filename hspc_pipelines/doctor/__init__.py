"""`hspc doctor`: checks a real setup (HubSpot, Partner Central, the events queue, the stores, Dagster)."""
