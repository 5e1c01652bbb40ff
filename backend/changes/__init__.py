"""The change log: every write to a field record, numbered by one global sequence that sync pulls walk."""
