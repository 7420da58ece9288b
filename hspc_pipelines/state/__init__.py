"""Durable sync state shared by runs: what the product already knows, so it does not ask again."""
