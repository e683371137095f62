"""The `waitlist` command (main.py), the server processes it runs (serve.py) and their
logging (logs.py)."""
