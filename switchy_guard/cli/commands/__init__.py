"""One module per verb group: its argparse registration and a short run(ctx)."""
