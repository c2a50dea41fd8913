"""专利库 (the pool): the enterprise's side of the matching loop.

- search and browse entered patents (their public fields only, revive.inventory.public),
  ranked by the matching engine (revive.matching.search), with filters;
- a patent's public page with 申请对接 (an intent: revive.matching.manual.submit_intent);
- the enterprise's view of its demand: the machine's suggestions (not yet reviewed), what is
  under review, pushed (with the officer's note), declined (a count), its intents, and what to
  do when nothing fits;
- anonymous visitors see the search and public pages when the platform admin turns the
  ``public_pool`` setting on (revive.settings).

It sits on top of matching, deals and licensing (it reads all three) and is imported by none.
"""
