"""Hostile-object suite: real crashing programs run with and without tbdump."""
