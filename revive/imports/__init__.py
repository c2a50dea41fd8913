"""Spreadsheet imports shared by every domain: reading files, jobs, progress, row errors.

Domains (inventory now, demands later) register an import *kind* with a row spec and an
apply function; this package owns the file handling and the job lifecycle.
"""
