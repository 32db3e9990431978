"""``verify``: the round trip of down scripts on a scratch database."""
