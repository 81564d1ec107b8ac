"""Composition root and command line of Beffroi."""
