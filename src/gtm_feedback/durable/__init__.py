"""What every workflow shares: retries, durable sleep, fan-out, queues, the registry, runs."""
