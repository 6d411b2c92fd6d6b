"""The `amanah` command line and (later) the FastAPI app and officer console."""
