"""What the agents cost: every call recorded, monthly totals, the budget that caps them."""
