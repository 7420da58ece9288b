"""Partner Central's write quotas kept by the product: the pure budget rules (`budget`) and the run's
budget over the ledger in the state store (`run`)."""
