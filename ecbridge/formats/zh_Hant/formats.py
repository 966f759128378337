"""The same 24-hour, year-first formats as English (one rule for the warehouse, in both languages)."""

from ecbridge.formats.en.formats import *  # noqa: F403
