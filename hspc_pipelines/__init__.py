"""hspc: HubSpot deals <-> AWS Partner Central opportunities, reconciled on Dagster."""
