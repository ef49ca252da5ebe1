"""The one exception type a user sees: its message is a complete, single-line explanation."""


class RealtimeError(Exception):
    """Bad input or an impossible request; the CLI prints the message and exits with code 2."""
