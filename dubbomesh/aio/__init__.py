"""Small anyio helpers shared by the adapters: latest-value cell, debounce, backoff."""
