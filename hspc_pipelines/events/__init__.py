"""The event path: SQS messages (HubSpot webhooks, Partner Central EventBridge events, submit requests) to targeted runs."""
