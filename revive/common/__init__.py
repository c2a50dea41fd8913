"""Code shared by every domain: the record-field framework, spreadsheets, downloads."""
