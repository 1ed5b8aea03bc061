"""In-memory state: plain records, per-tenant indexes, seeding. No HTTP here."""
from .store import Store

__all__ = ["Store"]
