"""Product areas: how requests are grouped, routed to firehose channels and reported on."""
