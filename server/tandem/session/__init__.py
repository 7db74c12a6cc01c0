"""LSP-free server state: workspace folders, live settings and cost previews."""
