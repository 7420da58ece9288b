"""The partner's Partner Central solutions catalog, as the `hspc solutions` command shows it."""
