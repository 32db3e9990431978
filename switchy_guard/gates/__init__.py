"""The gates between a plan and the runner: policies, the verdict, gated runs."""
