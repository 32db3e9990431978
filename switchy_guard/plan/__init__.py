"""What a plan does: the impact report and live row counts."""
