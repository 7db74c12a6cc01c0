"""Cost: offline token counting, prices and estimates."""
