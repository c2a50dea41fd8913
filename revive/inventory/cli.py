"""revive import-patents."""

commands: list = []
