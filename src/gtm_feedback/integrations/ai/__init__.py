"""AI agents: one typed input and output each, an LLM engine and an offline engine behind them."""
