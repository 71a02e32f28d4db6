"""The embedded Nexudus emulator (an aiohttp.web application) for tests and demos."""
