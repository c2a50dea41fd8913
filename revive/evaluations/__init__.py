"""市场评价 and 分层推广: enterprise evaluations of entered patents, invitations, tiers."""
