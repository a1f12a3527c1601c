"""The Practice operator."""
