"""Evidence + declared form + rules file -> findings, per submission and per batch."""
