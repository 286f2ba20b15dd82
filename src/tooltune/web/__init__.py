"""The studio: a web page over the same functions as the CLI (studio.py)."""
