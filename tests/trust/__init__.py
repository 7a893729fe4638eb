"""Trust suite: redaction, budgets, signing and safe mode, cross-version loading."""
