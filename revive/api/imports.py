"""Import-job JSON routes."""
