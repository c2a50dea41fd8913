"""Load test of Revive: locustfile, runner, extra volume (see loadtest/README.md)."""
