"""Policy: how risky a change is, which model each step goes to, and what it may spend."""
