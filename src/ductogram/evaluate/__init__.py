"""Evaluation of readings against the simulator's truth and against real annotated images."""
