"""The ledger's errors, shared by both databases: each message says what is wrong and what to do."""


class LedgerError(Exception):
    """The ledger cannot be used; the message says what is wrong and how to fix it."""


class LedgerCorrupt(LedgerError):
    """The file is not a readable ledger; it is left untouched."""


class LedgerLocked(LedgerError):
    """Another writer holds the ledger longer than we wait."""


class LedgerReadOnly(LedgerError):
    """The ledger may be read but not written (permissions, a read-only database user)."""


class LedgerDiskFull(LedgerError):
    """No room for another row; rows already recorded are intact."""


class LedgerTooNew(LedgerError):
    """The ledger's schema is newer than this Tandem knows."""
