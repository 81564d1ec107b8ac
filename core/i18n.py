"""Translation markers usable in the domain.

French is the source language of the messages: the domain writes French sentences, marked with
`N_` so that Babel extracts them, and the pages translate them into English on display.
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message
