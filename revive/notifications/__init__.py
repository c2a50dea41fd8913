"""In-app inbox per organization (and optionally per user), with e-mail when SMTP is configured."""
