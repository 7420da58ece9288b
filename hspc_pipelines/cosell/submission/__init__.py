"""Submitting an opportunity to AWS: the request, the readiness rules (pure) and the run."""
