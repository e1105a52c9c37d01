"""Pure parsing of what the archive holds: Firehose keys and records. No I/O here."""
