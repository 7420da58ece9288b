"""The events queue (SQS): one envelope format, send (ingress), receive and delete (events sensor)."""
