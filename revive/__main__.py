"""``python -m revive …``: the same commands as the ``revive`` script (revive.cli)."""

from revive.cli import main

main()
