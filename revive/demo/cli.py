"""revive seed-demo."""

commands: list = []
