"""The split itself: plan -> draft -> review with the stop rule, budgets, handoffs and edits."""
