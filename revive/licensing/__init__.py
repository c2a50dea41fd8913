"""专利开放许可: open-licence declarations on patents, validated against the rules."""
