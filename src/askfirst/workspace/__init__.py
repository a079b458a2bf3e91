"""Chat data in: Slack export reader, synthetic workspace generator, posting."""
