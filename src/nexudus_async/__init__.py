"""asyncio client for the Nexudus billing time-pass API."""

__version__ = "0.1.0"
