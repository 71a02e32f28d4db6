"""The ``nexudus-async`` command line: bulk import, export and the emulator."""
