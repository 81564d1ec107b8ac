"""Adapters to the social networks, behind one interface (`networks.base`), and their sandboxes.

`networks.registry.adapter_for(account, settings)` gives the adapter of a connected account.
"""

from networks import redact

redact.install()
