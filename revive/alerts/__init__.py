"""Standing alerts (issue 14): new entered patents that fit an open demand, new demands and
new intents — in the inbox at once, by e-mail in one digest a day per person, each kind of
e-mail revocable by a signed link; and the menu's "new since you last looked" counts."""
